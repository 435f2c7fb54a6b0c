import { endianness } from 'node:os';
import { FINDINGS_PER_RULE } from '../limits.js';
import {
  DIR_BASERELOC,
  IMAGE_FILE_RELOCS_STRIPPED,
  MACHINE_AMD64,
  MACHINE_ARM64,
  MACHINE_I386,
  REL_DIR64,
  REL_HIGHADJ,
  REL_HIGHLOW,
  relocationWidth,
} from './constants.js';
import { hex, malformed } from './errors.js';
import type { PeHeaders } from './headers.js';
import { locateRva } from './rva.js';
import type { ByteSource } from './source.js';

/** A base relocation whose patched bytes cross a 4 KiB page boundary. */
export interface StraddlingRelocation {
  /** RVA of the first patched byte. */
  rva: number;
  type: number;
  width: number;
  /** File offset of the 2-byte relocation entry. */
  entryOffset: number;
}

export interface RelocationSummary {
  blocks: number;
  entries: number;
  /** The first straddling entries (at most FINDINGS_PER_RULE: the report shows no more). */
  straddling: StraddlingRelocation[];
  /** All straddling entries, counted (absent when the directory was not walked). */
  straddlingTotal?: number;
  /** Why the directory was not walked, when it was not. */
  skipped: { rva: number; size: number } | undefined;
}

/**
 * Walks the base relocation directory (data directory 5), keeping only the
 * entries that straddle a page, and only as many of those as a report shows;
 * everything else is counted, not stored, so a million relocations cost one
 * pass over the directory bytes and no memory.
 */
export function walkRelocations(src: ByteSource, h: PeHeaders): RelocationSummary {
  const dir = h.dataDirectories[DIR_BASERELOC]!;
  const summary: RelocationSummary = { blocks: 0, entries: 0, straddling: [], straddlingTotal: 0, skipped: undefined };
  if (dir.rva === 0 && dir.size === 0) return summary;
  if ((h.characteristics & IMAGE_FILE_RELOCS_STRIPPED) !== 0) {
    // The loader never applies relocations to such an image, so it ignores the directory.
    summary.skipped = { rva: dir.rva, size: dir.size };
    return summary;
  }
  const span = locateRva(h, dir.rva);
  if (!span) {
    malformed(`base relocation directory RVA ${hex(dir.rva)} is not inside any section`, dir.entryOffset, 'BaseRelocationTable.VirtualAddress');
  }
  if (span.available < dir.size) {
    malformed(
      `base relocation directory (${hex(dir.size)} bytes at RVA ${hex(dir.rva)}) runs past the file data of its section`,
      dir.entryOffset + 4,
      'BaseRelocationTable.Size',
    );
  }
  const bytes = src.read(span.offset, dir.size);
  const words = asWords(bytes);
  const widths = widthTable(h.machine);
  // Fast path: pairs of the machine's usual type (DIR64, HIGHLOW) that cannot straddle.
  const usual = h.machine === MACHINE_I386 ? REL_HIGHLOW : h.machine === MACHINE_AMD64 || h.machine === MACHINE_ARM64 ? REL_DIR64 : -1;
  const pairPattern = usual < 0 ? 0 : ((usual << 28) | (usual << 12)) >>> 0;
  const lastSafe = usual < 0 ? -1 : 0x1000 - widths[usual]!;
  const dwords = usual >= 0 && LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2) : undefined;
  const imageEnd = h.sizeOfImage;
  let straddlingTotal = 0;
  let pos = 0;
  while (pos < dir.size) {
    const blockOffset = span.offset + pos;
    if (pos + 8 > dir.size) {
      malformed(`base relocation block header at ${hex(blockOffset)} runs past the end of the directory`, blockOffset, 'SizeOfBlock');
    }
    const pageRva = bytes.readUInt32LE(pos);
    const sizeOfBlock = bytes.readUInt32LE(pos + 4);
    if (sizeOfBlock < 8) {
      malformed(`base relocation block at ${hex(blockOffset)} has SizeOfBlock ${sizeOfBlock} (at least 8 needed)`, blockOffset + 4, 'SizeOfBlock');
    }
    if (pos + sizeOfBlock > dir.size) {
      malformed(
        `base relocation block at ${hex(blockOffset)} (SizeOfBlock ${hex(sizeOfBlock)}) runs past the end of the directory`,
        blockOffset + 4,
        'SizeOfBlock',
      );
    }
    if ((sizeOfBlock & 1) !== 0) {
      malformed(`base relocation block at ${hex(blockOffset)} has odd SizeOfBlock ${sizeOfBlock}`, blockOffset + 4, 'SizeOfBlock');
    }
    if (pageRva >= imageEnd) {
      malformed(`base relocation block at ${hex(blockOffset)} names page RVA ${hex(pageRva)}, past SizeOfImage`, blockOffset, 'VirtualAddress');
    }
    summary.blocks++;
    // The hot loop of a large image: one pass over 16-bit words, a table
    // lookup per entry, and an object only for the rare straddling entry.
    const end = (pos + sizeOfBlock) >>> 1;
    let entries = 0;
    let start = (pos + 8) >>> 1;
    if (dwords && (pageRva & 0xfff) === 0 && (pos & 3) === 0) {
      // Two entries per step while both are the usual type at offsets that cannot
      // cross the page; the first other pair (padding, say) hands over to the exact loop.
      const endPairs = (pos + sizeOfBlock) >>> 2;
      let k = (pos + 8) >>> 2;
      for (; k < endPairs; k++) {
        const w = dwords[k]!;
        if ((w & 0xf000f000) >>> 0 !== pairPattern || (w & 0xfff) > lastSafe || ((w >>> 16) & 0xfff) > lastSafe) break;
      }
      entries += (k - ((pos + 8) >>> 2)) * 2;
      start = k * 2;
    }
    for (let i = start; i < end; i++) {
      const entry = words[i]!;
      const type = entry >>> 12;
      if (type === 0) continue;
      const width = widths[type]!;
      if (width < 0) {
        malformed(`base relocation entry at ${hex(span.offset + i * 2)} has type ${type}, unknown for this machine`, span.offset + i * 2, 'Type');
      }
      entries++;
      const rva = pageRva + (entry & 0xfff);
      if ((rva & 0xfff) + width > 0x1000) {
        if (straddlingTotal++ < FINDINGS_PER_RULE) summary.straddling.push({ rva, type, width, entryOffset: span.offset + i * 2 });
      }
      // HIGHADJ's second slot holds the low half of the adjustment, not an entry.
      if (type === REL_HIGHADJ) i++;
    }
    summary.entries += entries;
    pos += sizeOfBlock;
  }
  summary.straddlingTotal = straddlingTotal;
  return summary;
}

/** Width per relocation type for this machine, -1 for types the loader rejects. */
function widthTable(machine: number): Int8Array {
  const table = new Int8Array(16);
  for (let t = 0; t < 16; t++) table[t] = relocationWidth(t, machine) ?? -1;
  return table;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** The directory as little-endian 16-bit words (a view when alignment and byte order allow). */
function asWords(bytes: Buffer): Uint16Array {
  if (LITTLE_ENDIAN && (bytes.byteOffset & 1) === 0) {
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 1);
  }
  const words = new Uint16Array(bytes.length >>> 1);
  for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt16LE(i * 2);
  return words;
}
