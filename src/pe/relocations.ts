import { DIR_BASERELOC, IMAGE_FILE_RELOCS_STRIPPED, REL_HIGHADJ, relocationWidth } from './constants.js';
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
  straddling: StraddlingRelocation[];
  /** Why the directory was not walked, when it was not. */
  skipped: string | undefined;
}

/**
 * Walks the base relocation directory (data directory 5), keeping only the
 * entries that straddle a page; everything else is counted, not stored, so a
 * million relocations cost one pass over the directory bytes.
 */
export function walkRelocations(src: ByteSource, h: PeHeaders): RelocationSummary {
  const dir = h.dataDirectories[DIR_BASERELOC]!;
  const summary: RelocationSummary = { blocks: 0, entries: 0, straddling: [], skipped: undefined };
  if (dir.rva === 0 && dir.size === 0) return summary;
  if ((h.characteristics & IMAGE_FILE_RELOCS_STRIPPED) !== 0) {
    // The loader never applies relocations to such an image, so it ignores the directory.
    summary.skipped =
      `relocation directory (RVA ${hex(dir.rva)}, ${hex(dir.size)} bytes) not checked: ` +
      'the image is marked RELOCS_STRIPPED, so the loader ignores it';
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
  const machine = h.machine;
  const imageEnd = h.sizeOfImage;
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
    const end = pos + sizeOfBlock;
    for (let at = pos + 8; at < end; at += 2) {
      const entry = bytes[at]! | (bytes[at + 1]! << 8);
      const type = entry >>> 12;
      if (type === 0) continue;
      summary.entries++;
      const width = relocationWidth(type, machine);
      if (width === undefined) {
        malformed(`base relocation entry at ${hex(span.offset + at)} has type ${type}, unknown for this machine`, span.offset + at, 'Type');
      }
      const rva = pageRva + (entry & 0xfff);
      if ((rva & 0xfff) + width > 0x1000) {
        summary.straddling.push({ rva, type, width, entryOffset: span.offset + at });
      }
      // HIGHADJ's second slot holds the low half of the adjustment, not an entry.
      if (type === REL_HIGHADJ) at += 2;
    }
    pos = end;
  }
  return summary;
}
