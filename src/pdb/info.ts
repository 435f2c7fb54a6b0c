import { damaged } from './errors.js';
import type { Msf } from './msf.js';
import { recordString, StreamReader } from './reader.js';

/** The PDB info stream (stream 1): what ties the PDB to an image, and the named streams. */
export interface PdbInfo {
  guid: Buffer;
  age: number;
  /** Named streams ("/names", "/LinkInfo", ...) and their stream indices. */
  named: Map<string, number>;
}

const PDB_INFO_STREAM = 1;

export function readInfo(msf: Msf): PdbInfo {
  const r = new StreamReader(msf.stream(PDB_INFO_STREAM, 'PDB info'), 'PDB info');
  const age = r.u32(8);
  const guid = Buffer.from(r.bytes(12, 16));
  // Named stream map: the names' buffer, then a hash table of (name offset, stream) pairs.
  const namesSize = r.u32(28);
  const names = r.bytes(32, namesSize);
  let at = 32 + namesSize;
  const size = r.u32(at);
  const capacity = r.u32(at + 4);
  at += 8;
  const presentWords = r.u32(at);
  if (presentWords > r.length) damaged('stream', 'PDB info stream: bad named stream map');
  const present: number[] = [];
  for (let i = 0; i < presentWords; i++) present.push(r.u32(at + 4 + i * 4));
  at += 4 + presentWords * 4;
  const deletedWords = r.u32(at);
  if (deletedWords > r.length) damaged('stream', 'PDB info stream: bad named stream map');
  at += 4 + deletedWords * 4;
  const named = new Map<string, number>();
  let seen = 0;
  for (let bucket = 0; bucket < Math.min(capacity, presentWords * 32) && seen < size; bucket++) {
    if (((present[bucket >>> 5]! >>> (bucket & 31)) & 1) === 0) continue;
    const key = r.u32(at);
    const stream = r.u32(at + 4);
    at += 8;
    seen++;
    if (key < names.length) named.set(recordString(names, key), stream);
  }
  return { guid, age, named };
}
