/**
 * The symbols of one image, from its PDB or a map file beside it: function names, source
 * locations, global variables and contributing object files. This is the one place that
 * finds the PDB: the path in the image's CodeView record, then that file's name and the
 * image's own stem next to the image. A PDB is used only when its GUID and age match the
 * record; a mismatched or damaged one is ignored, and `problem` says why (the engine
 * reports it as a note). Nothing is read until a finding asks.
 */
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import type { SourceLocation } from '../findings.js';
import { lastAtOrBefore } from '../callsites/last-at-or-before.js';
import { readRegularFile } from '../files/regular-file.js';
import { IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_EXECUTE } from '../pe/constants.js';
import type { CodeViewInfo } from '../pe/debug-directory.js';
import { sectionForRva, sectionSpan, type PeHeaders } from '../pe/headers.js';
import { openPdb, type PdbProblem, type PdbSymbols } from '../pdb/index.js';
import { MAX_SYMBOL_FILE, readMapFile, type MapSymbol } from './map-file.js';
import { mapSourcePath, type PathMapping } from './source-paths.js';

export type { PathMapping } from './source-paths.js';

export interface PdbNote {
  /** The PDB file that was not used, or used in part. */
  pdb: string;
  /** `partial`: the PDB matched, but a part a lookup needed was damaged and left out. */
  problem: PdbProblem | 'partial';
  detail: string;
}

export interface ImageSymbols {
  functionAt(rva: number): { name: string; offset: number } | undefined;
  /** File and line of the code at `rva` (PDB line tables only). */
  sourceAt(rva: number): SourceLocation | undefined;
  /** The global variable at or before `rva`: its name, the offset into it, its object file. */
  dataAt(rva: number): { name: string; offset: number; object?: string } | undefined;
  /** Object files that contributed to [start, end) of a section. */
  contributors(start: number, end: number): string[];
  /** Why a PDB found for the image was not used; undefined when none was tried or one was used. */
  pdbNote(): PdbNote | undefined;
}

export interface SymbolOptions {
  pathMap?: readonly PathMapping[];
}

export function imageSymbols(imagePath: string, h: PeHeaders, cv: CodeViewInfo | undefined, options: SymbolOptions = {}): ImageSymbols {
  let loaded: { pdb: PdbSymbols | undefined; path: string | undefined; map: MapSymbol[]; note: PdbNote | undefined } | undefined;
  const load = (): NonNullable<typeof loaded> => {
    if (loaded) return loaded;
    const found = findPdb(imagePath, h, cv);
    const map = found.pdb ? [] : codeOnly(h, readMapFile(join(dirname(imagePath), `${stem(imagePath)}.map`), h));
    loaded = { pdb: found.pdb, path: found.path, map, note: found.note };
    return loaded;
  };
  const mapped = (p: string): string => mapSourcePath(p, options.pathMap ?? []);
  // A finding asks for its call's source line, then its function: one lookup serves both.
  let last: { rva: number; at: ReturnType<PdbSymbols['at']> } | undefined;
  const pdbAt = (pdb: PdbSymbols, rva: number): ReturnType<PdbSymbols['at']> => (last?.rva === rva ? last.at : (last = { rva, at: pdb.at(rva) }).at);
  return {
    functionAt(rva) {
      const { pdb, map } = load();
      if (pdb) {
        const at = pdbAt(pdb, rva);
        return at.function !== undefined ? { name: at.function, offset: at.functionOffset ?? 0 } : undefined;
      }
      const k = lastAtOrBefore(map.length, (i) => map[i]!.rva, rva);
      const s = map[k];
      if (!s || sectionForRva(h.sections, s.rva) !== sectionForRva(h.sections, rva)) return undefined;
      return { name: s.name, offset: rva - s.rva };
    },
    sourceAt(rva) {
      const pdb = load().pdb;
      const at = pdb && pdbAt(pdb, rva);
      if (!at || at.file === undefined || at.line === undefined) return undefined;
      const object = at.object !== undefined ? { object: mapped(at.object) } : {};
      const outer = { file: mapped(at.file), line: at.line, ...(at.function !== undefined ? { function: at.function } : {}) };
      // In inlined code the call is on the inlined function's line; the caller's line says where it was inlined.
      const inner = at.inlined;
      if (inner?.file !== undefined) {
        return { file: mapped(inner.file), line: inner.line, ...(inner.function !== undefined ? { function: inner.function } : {}), ...object, inlinedAt: outer };
      }
      return { ...outer, ...(at.column !== undefined ? { column: at.column } : {}), ...object };
    },
    dataAt(rva) {
      const d = load().pdb?.dataAt(rva);
      return d && { ...d, ...(d.object !== undefined ? { object: mapped(d.object) } : {}) };
    },
    contributors(start, end) {
      return (load().pdb?.contributors(start, end) ?? []).map(mapped);
    },
    pdbNote() {
      const damage = loaded?.pdb?.damage();
      return damage ? { pdb: loaded!.path!, problem: 'partial', detail: damage.detail } : loaded?.note;
    },
  };
}

function stem(path: string): string {
  return basename(path, extname(path));
}

/** The first candidate PDB that matches the image; else a note on the first that did not. */
function findPdb(imagePath: string, h: PeHeaders, cv: CodeViewInfo | undefined): { pdb?: PdbSymbols; path?: string; note?: PdbNote } {
  // Without a CodeView record nothing ties a PDB to the image.
  if (!cv) return {};
  const dir = dirname(imagePath);
  const candidates = [...new Set([cv.pdbPath, join(dir, basename(cv.pdbPath.replace(/\\/g, '/'))), join(dir, `${stem(imagePath)}.pdb`)])];
  const sections = h.sections.map((s) => ({ virtualAddress: s.virtualAddress, size: sectionSpan(s) }));
  let note: PdbNote | undefined;
  for (const path of candidates) {
    // The record's path is of the build machine; a relative one would name a file here by chance.
    if (path === cv.pdbPath && !isAbsolute(path)) continue;
    const bytes = readRegularFile(path, MAX_SYMBOL_FILE);
    if (!bytes) continue;
    const r = openPdb(bytes, cv, sections);
    if (r.ok) return { pdb: r.pdb, path };
    note ??= { pdb: path, problem: r.problem, detail: r.detail };
  }
  return note ? { note } : {};
}

/** Map symbols in executable sections, by RVA. */
function codeOnly(h: PeHeaders, syms: MapSymbol[]): MapSymbol[] {
  const code = h.sections.filter((s) => (s.characteristics & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE)) !== 0);
  return syms.filter((s) => sectionForRva(code, s.rva) !== undefined).sort((a, b) => a.rva - b.rva);
}
