/**
 * Function names from a map file (link.exe's format, which lld-link writes for /map):
 * "Publics by Value" and "Static symbols", as segment:offset.
 */
import { readRegularFile } from '../files/regular-file.js';
import type { PeHeaders } from '../pe/headers.js';

export interface MapSymbol {
  rva: number;
  name: string;
}

/** The largest symbol file (map or PDB) read: more than any driver's, bounded for a hostile one. */
export const MAX_SYMBOL_FILE = 512 * 1024 * 1024;

export function readMapFile(path: string, h: PeHeaders): MapSymbol[] {
  const bytes = readRegularFile(path, MAX_SYMBOL_FILE);
  if (!bytes) return [];
  const text = bytes.toString('latin1');
  const out: MapSymbol[] = [];
  for (const m of text.matchAll(/^\s*([0-9a-fA-F]{4}):([0-9a-fA-F]{8})\s+(\S+)\s+[0-9a-fA-F]{8,16}\b/gm)) {
    const s = h.sections[parseInt(m[1]!, 16) - 1];
    if (s && !m[3]!.startsWith('__imp_')) out.push({ rva: s.virtualAddress + parseInt(m[2]!, 16), name: m[3]! });
  }
  return out;
}
