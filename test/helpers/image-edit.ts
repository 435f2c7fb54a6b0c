import { readFileSync } from 'node:fs';
import { parseHeaders, type PeHeaders } from '../../src/pe/headers.js';
import { bufferSource } from '../../src/pe/source.js';

/** A fixture's bytes and its intact headers, for making corrupted copies. */
export interface Editable {
  bytes: Buffer;
  headers: PeHeaders;
}

export function loadEditable(path: string): Editable {
  const bytes = readFileSync(path);
  return { bytes, headers: parseHeaders(bufferSource(bytes)) };
}

export function copyOf(e: Editable): Buffer {
  return Buffer.from(e.bytes);
}

/** File offset of the relocation directory's data (the first block header). */
export function relocDirOffset(e: Editable): { offset: number; size: number } {
  const dir = e.headers.dataDirectories[5]!;
  const s = e.headers.sections.find((x) => dir.rva >= x.virtualAddress && dir.rva < x.virtualAddress + x.sizeOfRawData)!;
  return { offset: s.pointerToRawData + (dir.rva - s.virtualAddress), size: dir.size };
}

/** Deterministic PRNG (mulberry32) so mutation runs are repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
