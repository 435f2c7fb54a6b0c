import type { Msf } from './msf.js';
import { recordString, StreamReader } from './reader.js';

/** The /names string table: the file names of the line tables, by offset. */
export interface StringTable {
  at(offset: number): string | undefined;
}

const SIGNATURE = 0xeffeeffe;

export function readStrings(msf: Msf, stream: number | undefined): StringTable {
  if (stream === undefined) return { at: () => undefined };
  const r = new StreamReader(msf.stream(stream, '/names'), '/names');
  if (r.u32(0) !== SIGNATURE) return { at: () => undefined };
  const size = r.u32(8);
  const bytes = r.bytes(12, size);
  return {
    at: (offset) => (offset < bytes.length ? recordString(bytes, offset) : undefined),
  };
}
