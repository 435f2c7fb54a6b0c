/** The image's CodeView (RSDS) record: where the linker wrote the PDB, and what ties the two. */
import type { PeHeaders } from './headers.js';
import { locateRva } from './rva.js';
import type { ByteSource } from './source.js';

const DIR_DEBUG = 6;
const ENTRY = 28;
const IMAGE_DEBUG_TYPE_CODEVIEW = 2;

export interface CodeViewInfo {
  /** PDB path as the linker wrote it. */
  pdbPath: string;
  guid: Buffer;
  age: number;
}

/** The RSDS record of the debug directory, if any. Never throws. */
export function readCodeView(src: ByteSource, h: PeHeaders): CodeViewInfo | undefined {
  try {
    const dir = h.dataDirectories[DIR_DEBUG];
    if (!dir || dir.rva === 0 || dir.size < ENTRY) return undefined;
    const span = locateRva(h, dir.rva);
    if (!span) return undefined;
    const n = Math.min(Math.floor(Math.min(dir.size, span.available) / ENTRY), 32);
    for (let i = 0; i < n; i++) {
      const d = src.read(span.offset + i * ENTRY, ENTRY);
      if (d.readUInt32LE(12) !== IMAGE_DEBUG_TYPE_CODEVIEW) continue;
      const size = d.readUInt32LE(16);
      const ptr = d.readUInt32LE(24);
      if (size < 24 || size > 4096 || ptr + size > src.size) continue;
      const cv = src.read(ptr, size);
      if (cv.toString('latin1', 0, 4) !== 'RSDS') continue;
      const end = cv.indexOf(0, 24);
      return { guid: Buffer.from(cv.subarray(4, 20)), age: cv.readUInt32LE(20), pdbPath: cv.toString('utf8', 24, end < 0 ? size : end) };
    }
  } catch {
    // no usable debug directory
  }
  return undefined;
}
