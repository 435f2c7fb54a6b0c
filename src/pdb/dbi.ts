import { damaged } from './errors.js';
import type { Msf } from './msf.js';
import { StreamReader } from './reader.js';

/** One module (object file) of the DBI stream's module list. */
export interface PdbModule {
  index: number;
  /** The module's name: the object file's path, or an archive member's. */
  name: string;
  /** The object file, or the library an archive member came from. */
  objectFile: string;
  /** Stream of its symbols and line tables; undefined when it has none. */
  stream: number | undefined;
  symBytes: number;
  c11Bytes: number;
  c13Bytes: number;
}

/** A range of an image section that one module contributed. */
export interface SectionContribution {
  /** 1-based section number, as in the image's section table. */
  section: number;
  offset: number;
  size: number;
  module: number;
}

export interface Dbi {
  age: number;
  symRecordStream: number | undefined;
  modules: PdbModule[];
  contributions: SectionContribution[];
}

const DBI_STREAM = 3;
const HEADER = 64;
const NO_STREAM = 0xffff;
const SC_VER60 = 0xeffe0000 + 19970605;
const SC_V2 = 0xeffe0000 + 20140516;

const streamOrNone = (s: number): number | undefined => (s === NO_STREAM ? undefined : s);

export function readDbi(msf: Msf): Dbi {
  const r = new StreamReader(msf.stream(DBI_STREAM, 'DBI'), 'DBI');
  if (r.i32(0) !== -1) damaged('stream', 'DBI stream: not a version 7 header');
  const modInfoSize = r.i32(24);
  const secContrSize = r.i32(28);
  if (modInfoSize < 0 || secContrSize < 0 || HEADER + modInfoSize + secContrSize > r.length) damaged('stream', 'DBI stream: substreams larger than the stream');

  const modules: PdbModule[] = [];
  const end = HEADER + modInfoSize;
  for (let at = HEADER; at + 64 <= end; ) {
    const name = r.cstr(at + 64);
    const obj = r.cstr(name.next);
    const stream = r.u16(at + 34);
    modules.push({
      index: modules.length,
      name: name.text,
      objectFile: obj.text,
      stream: streamOrNone(stream),
      symBytes: r.u32(at + 36),
      c11Bytes: r.u32(at + 40),
      c13Bytes: r.u32(at + 44),
    });
    at = (obj.next + 3) & ~3;
  }

  const contributions: SectionContribution[] = [];
  if (secContrSize >= 4) {
    const start = end;
    const version = r.u32(start);
    const entry = version === SC_V2 ? 32 : version === SC_VER60 ? 28 : 0;
    if (entry === 0) damaged('stream', `DBI stream: section contribution version ${version.toString(16)}`);
    for (let at = start + 4; at + entry <= start + secContrSize; at += entry) {
      contributions.push({ section: r.u16(at), offset: r.u32(at + 4), size: r.u32(at + 8), module: r.u16(at + 16) });
    }
  }
  return {
    age: r.u32(8),
    symRecordStream: streamOrNone(r.u16(20)),
    modules,
    contributions,
  };
}
