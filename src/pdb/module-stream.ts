import type { PdbModule } from './dbi.js';
import { decodeAnnotations, readInlineeLines, type InlineeStart, type InlineSite } from './inline-sites.js';
import type { Msf } from './msf.js';
import { forEachRecord, recordString, StreamReader } from './reader.js';

/** A code or data symbol at section:offset. */
export interface SegSymbol {
  segment: number;
  offset: number;
  name: string;
  /** Code size, for procedures. */
  size?: number;
}

/** One run of line entries (a DEBUG_S_LINES file block): code at section:offset, lines of one file. */
export interface LineBlock {
  segment: number;
  /** The contribution the subsection describes: [start, start + codeSize). */
  start: number;
  codeSize: number;
  /** The file's name offset in /names. */
  fileName: number | undefined;
  /** Offsets from `start`, ascending; line 0 marks code without a line (0xFEEFEE). */
  entries: { offset: number; line: number; column?: number }[];
}

export interface ModuleSymbols {
  /** Procedures, each with the calls inlined into it. */
  procs: (SegSymbol & { inlined: InlineSite[] })[];
  data: SegSymbol[];
  lines: LineBlock[];
}

const S_LDATA32 = 0x110c;
const S_GDATA32 = 0x110d;
const PROC_KINDS = new Set([0x110f, 0x1110, 0x1146, 0x1147]); // S_LPROC32, S_GPROC32, and their _ID forms

const DEBUG_S_IGNORE = 0x80000000;
const DEBUG_S_LINES = 0xf2;
const DEBUG_S_FILECHKSMS = 0xf4;
const DEBUG_S_INLINEELINES = 0xf6;
const S_INLINESITE = 0x114d;
const S_INLINESITE2 = 0x115d;
const S_INLINESITE_END = 0x114e;
const CV_LINES_HAVE_COLUMNS = 1;
/** Line numbers that mark compiler-generated code without a source line (MSVC and LLVM). */
const HIDDEN_LINES = new Set([0xfeefee, 0xf00f00]);

export function readModuleStream(msf: Msf, m: PdbModule): ModuleSymbols {
  const out: ModuleSymbols = { procs: [], data: [], lines: [] };
  if (m.stream === undefined) return out;
  const what = `module ${m.index}`;
  const b = msf.stream(m.stream, what);
  const symEnd = Math.min(m.symBytes, b.length);
  // Inline sites are decoded once the module's DEBUG_S_INLINEELINES is read (it follows the symbols).
  const sites: { proc: ModuleSymbols['procs'][number]; inlinee: number; depth: number; annotations: Buffer }[] = [];
  let depth = 0;
  forEachRecord(b.subarray(0, symEnd), 4, (kind, rec) => {
    if (PROC_KINDS.has(kind) && rec.length >= 36) {
      out.procs.push({ segment: rec.readUInt16LE(32), offset: rec.readUInt32LE(28), size: rec.readUInt32LE(12), name: recordString(rec, 35), inlined: [] });
      depth = 0;
    } else if ((kind === S_LDATA32 || kind === S_GDATA32) && rec.length >= 10) {
      out.data.push({ segment: rec.readUInt16LE(8), offset: rec.readUInt32LE(4), name: recordString(rec, 10) });
    } else if ((kind === S_INLINESITE || kind === S_INLINESITE2) && rec.length >= 12 && out.procs.length > 0) {
      depth++;
      sites.push({ proc: out.procs.at(-1)!, inlinee: rec.readUInt32LE(8), depth, annotations: rec.subarray(kind === S_INLINESITE2 ? 16 : 12) });
    } else if (kind === S_INLINESITE_END) {
      depth = Math.max(0, depth - 1);
    }
  });
  const c13Start = m.symBytes + m.c11Bytes;
  if (m.c13Bytes === 0) return out;
  const r = new StreamReader(b.subarray(0, Math.min(b.length, c13Start + m.c13Bytes)), what);
  r.check(c13Start, m.c13Bytes);
  // The file checksums subsection first: line blocks name files by their offset in it.
  const subsections: { kind: number; at: number; len: number }[] = [];
  for (let at = c13Start; at + 8 <= r.length; ) {
    const kind = r.u32(at);
    const len = r.u32(at + 4);
    r.check(at + 8, len);
    if ((kind & DEBUG_S_IGNORE) === 0) subsections.push({ kind, at: at + 8, len });
    at = (at + 8 + len + 3) & ~3;
  }
  const files = new Map<number, number>();
  for (const s of subsections.filter((x) => x.kind === DEBUG_S_FILECHKSMS)) {
    for (let p = s.at; p + 6 <= s.at + s.len; ) {
      files.set(p - s.at, r.u32(p));
      p = (p + 6 + r.u8(p + 4) + 3) & ~3;
    }
  }
  const inlinees = new Map<number, InlineeStart>();
  for (const s of subsections.filter((x) => x.kind === DEBUG_S_INLINEELINES)) readInlineeLines(r.b, s.at, s.len, inlinees);
  for (const site of sites) {
    const entries = decodeAnnotations(site.annotations, inlinees.get(site.inlinee)).map((e) => ({ ...e, file: e.file === undefined ? undefined : files.get(e.file) }));
    site.proc.inlined.push({ inlinee: site.inlinee, depth: site.depth, entries });
  }
  for (const s of subsections.filter((x) => x.kind === DEBUG_S_LINES)) readLines(r, s.at, s.len, files, out.lines);
  return out;
}

function readLines(r: StreamReader, at: number, len: number, files: ReadonlyMap<number, number>, out: LineBlock[]): void {
  const end = at + len;
  const start = r.u32(at);
  const segment = r.u16(at + 4);
  const flags = r.u16(at + 6);
  const codeSize = r.u32(at + 8);
  const columns = (flags & CV_LINES_HAVE_COLUMNS) !== 0;
  for (let p = at + 12; p + 12 <= end; ) {
    const nameIndex = r.u32(p);
    const count = r.u32(p + 4);
    const blockSize = r.u32(p + 8);
    if (blockSize < 12 || p + blockSize > end || count > (blockSize - 12) / 8) return;
    const entries: LineBlock['entries'] = [];
    for (let i = 0; i < count; i++) {
      const e = p + 12 + i * 8;
      const lineStart = r.u32(e + 4) & 0xffffff;
      const entry: LineBlock['entries'][number] = { offset: r.u32(e), line: HIDDEN_LINES.has(lineStart) ? 0 : lineStart };
      if (columns && 12 + count * 12 <= blockSize) {
        const col = r.u16(p + 12 + count * 8 + i * 4);
        if (col > 0) entry.column = col;
      }
      entries.push(entry);
    }
    out.push({ segment, start, codeSize, fileName: files.get(nameIndex), entries });
    p += blockSize;
  }
}

/** S_PUB32 and S_GDATA32/S_LDATA32 of the global symbol record stream: functions and data by name. */
export function readGlobalSymbols(msf: Msf, stream: number | undefined): { functions: SegSymbol[]; data: SegSymbol[] } {
  const out = { functions: [] as SegSymbol[], data: [] as SegSymbol[] };
  if (stream === undefined) return out;
  forEachRecord(msf.stream(stream, 'symbol records'), 0, (kind, rec) => {
    if (rec.length < 10) return;
    const sym = { segment: rec.readUInt16LE(8), offset: rec.readUInt32LE(4), name: recordString(rec, 10) };
    if (kind === S_PUB32) ((rec.readUInt32LE(0) & PUB_FUNCTION) !== 0 ? out.functions : out.data).push(sym);
    else if (kind === S_LDATA32 || kind === S_GDATA32) out.data.push(sym);
  });
  return out;
}

const S_PUB32 = 0x110e;
/** CV_PUBSYMFLAGS: fFunction. */
const PUB_FUNCTION = 2;
