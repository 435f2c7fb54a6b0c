/**
 * Function names for call sites, from a PDB or a map file next to the image. Read only
 * when a call-site finding asks for a name.
 *
 * - PDB (MSF 7.0): S_GPROC32/S_LPROC32 records of the module streams (with their code
 *   size; present when compiled with /Z7 or /Zi) and the S_PUB32 function publics. A PDB
 *   whose GUID differs from the image's CodeView record is ignored: it is stale.
 * - Map file (link.exe's format, which lld-link writes for /map): "Publics by Value" and
 *   "Static symbols", as segment:offset.
 */
import { lastAtOrBefore } from './last-at-or-before.js';
import { basename, dirname, extname, join } from 'node:path';
import { readRegularFile } from '../files/regular-file.js';
import { IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_EXECUTE } from '../pe/constants.js';
import type { PeHeaders } from '../pe/headers.js';
import { locateRva } from '../pe/rva.js';
import type { ByteSource } from '../pe/source.js';

const DIR_DEBUG = 6;
const IMAGE_DEBUG_TYPE_CODEVIEW = 2;
const MAX_PDB = 512 * 1024 * 1024;

export interface CodeViewInfo {
  /** PDB path as the linker wrote it. */
  pdbPath: string;
  guid: Buffer;
}

interface Sym {
  rva: number;
  name: string;
  /** End RVA when the record gives the function's size. */
  end: number | undefined;
}

export interface FunctionNames {
  at(rva: number): { name: string; offset: number } | undefined;
}

/** The RSDS record of the debug directory, if any. Never throws. */
export function readCodeView(src: ByteSource, h: PeHeaders): CodeViewInfo | undefined {
  try {
    const dir = h.dataDirectories[DIR_DEBUG];
    if (!dir || dir.rva === 0 || dir.size < 28) return undefined;
    const span = locateRva(h, dir.rva);
    if (!span) return undefined;
    const n = Math.min(Math.floor(Math.min(dir.size, span.available) / 28), 32);
    for (let i = 0; i < n; i++) {
      const d = src.read(span.offset + i * 28, 28);
      if (d.readUInt32LE(12) !== IMAGE_DEBUG_TYPE_CODEVIEW) continue;
      const size = d.readUInt32LE(16);
      const ptr = d.readUInt32LE(24);
      if (size < 24 || size > 4096 || ptr + size > src.size) continue;
      const cv = src.read(ptr, size);
      if (cv.toString('latin1', 0, 4) !== 'RSDS') continue;
      const end = cv.indexOf(0, 24);
      return { guid: Buffer.from(cv.subarray(4, 20)), pdbPath: cv.toString('utf8', 24, end < 0 ? size : end) };
    }
  } catch {
    // no usable debug directory
  }
  return undefined;
}

export function functionNames(imagePath: string, h: PeHeaders, cv: CodeViewInfo | undefined): FunctionNames {
  const dir = dirname(imagePath);
  const stem = basename(imagePath, extname(imagePath));
  let syms: Sym[] = [];
  const pdbCandidates = [...(cv ? [join(dir, basename(cv.pdbPath.replace(/\\/g, '/')))] : []), join(dir, `${stem}.pdb`)];
  for (const p of pdbCandidates) {
    syms = readPdb(p, h, cv);
    if (syms.length > 0) break;
  }
  if (syms.length === 0) syms = readMap(join(dir, `${stem}.map`), h);
  const code = h.sections.filter((s) => (s.characteristics & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE)) !== 0);
  syms = syms.filter((s) => code.some((c) => s.rva >= c.virtualAddress && s.rva < c.virtualAddress + Math.max(c.virtualSize, c.sizeOfRawData)));
  syms.sort((a, b) => a.rva - b.rva || (b.end !== undefined ? 1 : 0) - (a.end !== undefined ? 1 : 0));
  const sectionOf = (rva: number): number => code.findIndex((c) => rva >= c.virtualAddress && rva < c.virtualAddress + Math.max(c.virtualSize, c.sizeOfRawData));
  return {
    at(rva) {
      // The last symbol at or before rva, in the same section, whose size (if known) covers it.
      const k = lastAtOrBefore(syms.length, (i) => syms[i]!.rva, rva);
      for (let j = k; j >= 0 && j > k - 4; j--) {
        const s = syms[j]!;
        if (s.end !== undefined && rva >= s.end) continue;
        if (sectionOf(s.rva) !== sectionOf(rva)) return undefined;
        return { name: s.name, offset: rva - s.rva };
      }
      return undefined;
    },
  };
}

function segmentRva(h: PeHeaders, segment: number, offset: number): number | undefined {
  const s = h.sections[segment - 1];
  return s ? s.virtualAddress + offset : undefined;
}

function readMap(path: string, h: PeHeaders): Sym[] {
  const bytes = readRegularFile(path, MAX_PDB);
  if (!bytes) return [];
  const text = bytes.toString('latin1');
  const out: Sym[] = [];
  for (const m of text.matchAll(/^\s*([0-9a-fA-F]{4}):([0-9a-fA-F]{8})\s+(\S+)\s+[0-9a-fA-F]{8,16}\b/gm)) {
    const rva = segmentRva(h, parseInt(m[1]!, 16), parseInt(m[2]!, 16));
    if (rva !== undefined && !m[3]!.startsWith('__imp_')) out.push({ rva, name: m[3]!, end: undefined });
  }
  return out;
}

/**
 * An MSF 7.00 container, read with every size and index checked against the
 * file: block indices below the block count, the directory and each stream no
 * larger than the file, and the streams' block lists together no longer than
 * the file's blocks (in a real PDB each block belongs to one stream). Each
 * stream is copied out once, so a hostile PDB costs at most about twice its own
 * size. Any inconsistency throws; readPdb turns that into "no names".
 */
class Msf {
  readonly blockSize: number;
  private readonly blockCount: number;
  private readonly sizes: number[] = [];
  private readonly blocks: number[][] = [];
  private readonly streams = new Map<number, Buffer>();

  constructor(private readonly b: Buffer) {
    if (b.length < 56 || b.toString('latin1', 0, 32) !== 'Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0') throw new Error('not an MSF 7.00 file');
    this.blockSize = b.readUInt32LE(32);
    if (![512, 1024, 2048, 4096, 8192, 16384, 32768].includes(this.blockSize)) throw new Error('bad block size');
    this.blockCount = Math.min(b.readUInt32LE(40), Math.floor(b.length / this.blockSize));
    const dirBytes = b.readUInt32LE(44);
    if (dirBytes < 4 || dirBytes > b.length) throw new Error('stream directory larger than the file');
    const dirBlocks = Math.ceil(dirBytes / this.blockSize);
    // The directory's block list fits in the one block the superblock names.
    if (dirBlocks * 4 > this.blockSize) throw new Error('stream directory block list larger than a block');
    const map = this.block(b.readUInt32LE(52));
    const dir = Buffer.alloc(dirBlocks * this.blockSize);
    for (let i = 0; i < dirBlocks; i++) this.block(map.readUInt32LE(i * 4)).copy(dir, i * this.blockSize);
    const n = dir.readUInt32LE(0);
    if (4 + n * 4 > dirBytes) throw new Error('more streams than the directory holds');
    let at = 4 + n * 4;
    let listed = 0;
    for (let s = 0; s < n; s++) {
      const size = dir.readUInt32LE(4 + s * 4);
      const real = size === 0xffffffff ? 0 : size;
      if (real > b.length) throw new Error(`stream ${s} larger than the file`);
      const count = Math.ceil(real / this.blockSize);
      listed += count;
      if (listed > this.blockCount) throw new Error('streams list more blocks than the file has');
      if (at + count * 4 > dirBytes) throw new Error('stream block lists run past the directory');
      const list: number[] = [];
      for (let k = 0; k < count; k++, at += 4) {
        const blk = dir.readUInt32LE(at);
        if (blk >= this.blockCount) throw new Error('block index past the end of the file');
        list.push(blk);
      }
      this.sizes.push(real);
      this.blocks.push(list);
    }
  }

  private block(i: number): Buffer {
    if (i >= this.blockCount) throw new Error('block index past the end of the file');
    const start = i * this.blockSize;
    return this.b.subarray(start, start + this.blockSize);
  }

  stream(s: number): Buffer {
    let out = this.streams.get(s);
    if (out) return out;
    const size = this.sizes[s];
    if (size === undefined) throw new Error(`no stream ${s}`);
    const whole = Buffer.alloc(this.blocks[s]!.length * this.blockSize);
    this.blocks[s]!.forEach((blk, i) => this.block(blk).copy(whole, i * this.blockSize));
    out = whole.subarray(0, size);
    this.streams.set(s, out);
    return out;
  }
}

const S_PUB32 = 0x110e;
const PROC_KINDS = new Set([0x110f, 0x1110, 0x1146, 0x1147]); // S_LPROC32, S_GPROC32, and their _ID forms

function readPdb(path: string, h: PeHeaders, cv: CodeViewInfo | undefined): Sym[] {
  try {
    const bytes = readRegularFile(path, MAX_PDB);
    if (!bytes) return [];
    const msf = new Msf(bytes);
    const info = msf.stream(1);
    if (cv && !info.subarray(12, 28).equals(cv.guid)) return [];
    const dbi = msf.stream(3);
    const out: Sym[] = [];
    const symRecords = dbi.readUInt16LE(20);
    const modInfoSize = dbi.readInt32LE(24);
    // Function publics: address only.
    forEachRecord(msf.stream(symRecords), 0, (kind, rec) => {
      if (kind !== S_PUB32 || (rec.readUInt32LE(0) & 2) === 0) return;
      const rva = segmentRva(h, rec.readUInt16LE(8), rec.readUInt32LE(4));
      if (rva !== undefined) out.push({ rva, name: cstr(rec, 10), end: undefined });
    });
    // Procedures in the module streams: address and size. Each stream once, however
    // many module records name it, so the work stays linear in the PDB's size.
    const walked = new Set<number>();
    for (let at = 64; at + 64 <= 64 + modInfoSize; ) {
      const stream = dbi.readUInt16LE(at + 34);
      const symBytes = dbi.readUInt32LE(at + 36);
      // Two NUL-terminated names (module, object file), then padding to 4 bytes.
      let p = at + 64;
      for (let names = 0; names < 2; names++) {
        const z = dbi.indexOf(0, p);
        if (z < 0) return out;
        p = z + 1;
      }
      at = (p + 3) & ~3;
      if (stream === 0xffff || symBytes < 4 || walked.has(stream)) continue;
      walked.add(stream);
      forEachRecord(msf.stream(stream).subarray(0, symBytes), 4, (kind, rec) => {
        if (!PROC_KINDS.has(kind)) return;
        const rva = segmentRva(h, rec.readUInt16LE(32), rec.readUInt32LE(28));
        if (rva !== undefined) out.push({ rva, name: cstr(rec, 35), end: rva + rec.readUInt32LE(12) });
      });
    }
    return out;
  } catch {
    return [];
  }
}

function forEachRecord(b: Buffer, start: number, visit: (kind: number, rec: Buffer) => void): void {
  for (let p = start; p + 4 <= b.length; ) {
    const len = b.readUInt16LE(p);
    if (len < 2 || p + 2 + len > b.length) return;
    visit(b.readUInt16LE(p + 2), b.subarray(p + 4, p + 2 + len));
    p += 2 + len;
  }
}

function cstr(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 ? b.length : end);
}
