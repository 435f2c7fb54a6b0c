import { hex, malformed } from './errors.js';
import { sectionForRva, sectionSpan, type PeHeaders } from './headers.js';

/**
 * Where an RVA's bytes are in the file: `offset`, and how many bytes from there
 * are backed by file data (`available`) before the rest of the section, which
 * the loader fills with zeros.
 */
export interface FileSpan {
  offset: number;
  available: number;
  /** Bytes from the RVA to the end of its section in memory (file-backed or not). */
  mapped: number;
}

export function locateRva(h: PeHeaders, rva: number): FileSpan | undefined {
  if (rva < h.sizeOfHeaders) {
    const first = h.sections[0]?.virtualAddress ?? h.sizeOfHeaders;
    const end = Math.min(h.sizeOfHeaders, first);
    if (rva < end) return { offset: rva, available: end - rva, mapped: end - rva };
  }
  const s = sectionForRva(h.sections, rva);
  if (!s) return undefined;
  const into = rva - s.virtualAddress;
  const mapped = sectionSpan(s) - into;
  const available = Math.max(0, Math.min(s.sizeOfRawData - into, mapped));
  return { offset: s.pointerToRawData + into, available, mapped };
}

/** Where `length` file-backed bytes at `rva` are, or a malformed error naming `what`. */
export function requireFileBytes(
  h: PeHeaders,
  rva: number,
  length: number,
  what: string,
  fieldOffset: number,
  field: string,
): FileSpan {
  const span = locateRva(h, rva);
  if (!span) {
    malformed(`${what} at RVA ${hex(rva)} is not inside any section`, fieldOffset, field);
  }
  if (span.available < length) {
    malformed(
      `${what} (${hex(length)} bytes at RVA ${hex(rva)}) runs past the file data of its section`,
      fieldOffset,
      field,
    );
  }
  return span;
}
