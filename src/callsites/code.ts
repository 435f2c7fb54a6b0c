/**
 * The executable sections of an image, the byte scans that find references to the IAT
 * slots of interest (so that only the functions holding them are decoded), and the
 * function ranges from .pdata that say where to start decoding.
 */
import { IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_EXECUTE, MACHINE_ARM64, MACHINE_AMD64 } from '../pe/constants.js';
import { sectionSpan, type PeHeaders, type SectionHeader } from '../pe/headers.js';
import { locateRva } from '../pe/rva.js';
import type { ByteSource } from '../pe/source.js';
import { lastAtOrBefore } from './last-at-or-before.js';

const DIR_EXCEPTION = 3;

export interface CodeSection {
  header: SectionHeader;
  /** RVA range [start, end) that has file data (the rest is zero fill, never code). */
  start: number;
  end: number;
  bytes: Buffer;
}

/** Executable sections with their file data. */
export function codeSections(src: ByteSource, h: PeHeaders): CodeSection[] {
  const out: CodeSection[] = [];
  for (const s of h.sections) {
    if ((s.characteristics & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE)) === 0) continue;
    const size = Math.min(s.sizeOfRawData, sectionSpan(s));
    if (size <= 0 || s.pointerToRawData + size > src.size) continue;
    out.push({ header: s, start: s.virtualAddress, end: s.virtualAddress + size, bytes: src.read(s.pointerToRawData, size) });
  }
  return out;
}

export function sectionAt(code: readonly CodeSection[], rva: number): CodeSection | undefined {
  return code.find((c) => rva >= c.start && rva < c.end);
}

const int32At = (b: Buffer, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

/**
 * x64: the instructions that load a slot, take its address, or call or jump through it
 * with a RIP-relative operand: mov (8B), lea (8D), and call, jmp or push (FF), whose ModRM
 * byte has mod=00, r/m=101. These are the forms the data flow follows. The 32-bit
 * displacement after the ModRM byte is relative to the end of the instruction, which for
 * them ends right after it: the slot is at start + i + 5 + disp, for the ModRM byte at i.
 *
 * A regular expression over the bytes finds the candidates: V8 compiles it to native code,
 * where a JavaScript loop spends milliseconds in the interpreter before it is optimised
 * (6.5 ms against 0.5 ms on 265 KB of code, in a fresh process). It also requires the
 * displacement's two upper bytes to be possible for a slot from somewhere in the section,
 * which leaves a few dozen candidates to check exactly.
 */
export function scanRipRelative(c: CodeSection, slots: ReadonlySet<number>, lo: number, hi: number): number[] {
  const out: number[] = [];
  const b = c.bytes;
  if (b.length < 6 || lo >= hi) return out;
  // The ModRM byte is at 1 .. length - 5 (after the opcode, before the displacement).
  const re = new RegExp(`[\\x8b\\x8d\\xff](?=[\\x05\\x0d\\x15\\x1d\\x25\\x2d\\x35\\x3d][^]{2}${upperBytes(lo - c.start - b.length, hi - 1 - c.start - 6)})`, 'g');
  const text = b.toString('latin1');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const i = m.index + 1;
    const target = c.start + i + 5 + int32At(b, i + 1);
    if (target >= lo && target < hi && slots.has(target)) out.push(c.start + i);
  }
  return out;
}

const hex = (n: number): string => `\\x${(n & 0xff).toString(16).padStart(2, '0')}`;

/** A pattern for the two upper bytes (little-endian) of any 32-bit value in [min, max]. */
function upperBytes(min: number, max: number): string {
  if (min > max || min < -0x80000000 || max > 0x7fffffff) return '[^]{2}';
  if (min >> 24 === max >> 24) return `[${hex(min >>> 16)}-${hex(max >>> 16)}]${hex(min >>> 24)}`;
  const tops: string[] = [];
  for (let t = min >> 24; t <= max >> 24; t++) tops.push(hex(t));
  return `[^][${tops.join('')}]`;
}

/**
 * x86: any 32-bit absolute address of one of the slots (call [x], mov reg, [x], push [x]).
 * A few slots: one native indexOf each. Many (a hostile image names 40,000): one pass that
 * checks each position's value against the slots' range and then the set, so the cost is
 * the code's size, not slots times size (4.2 s for 40,000 slots and 1 MB of code before).
 */
export function scanAbsolute(c: CodeSection, slotVas: ReadonlySet<number>): number[] {
  const out: number[] = [];
  const b = c.bytes;
  if (slotVas.size <= 8) {
    const needle = Buffer.alloc(4);
    for (const va of slotVas) {
      needle.writeUInt32LE(va >>> 0);
      for (let i = b.indexOf(needle); i >= 0; i = b.indexOf(needle, i + 1)) out.push(c.start + i);
    }
    return out.sort((x, y) => x - y);
  }
  const { lo, hi } = slotBounds(slotVas);
  for (let i = 0; i + 4 <= b.length; i++) {
    const v = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
    if (v >= lo && v < hi && slotVas.has(v)) out.push(c.start + i);
  }
  return out;
}

/**
 * Import thunks that jump through one of `slots`: `jmp [slot]` (FF 25) on x86 and x64, and
 * lld-link's `adrp x16, page; ldr x16, [x16, #off]; br x16` on ARM64. Used for the imports
 * that never return, whose thunks end the caller's block.
 */
export function scanImportThunks(c: CodeSection, slots: ReadonlySet<number>, arch: 'x64' | 'x86' | 'arm64', imageBase: bigint): number[] {
  const out: number[] = [];
  if (slots.size === 0) return out;
  const b = c.bytes;
  if (arch === 'arm64') {
    for (let i = 8; i + 4 <= b.length; i += 4) {
      if (int32At(b, i) >>> 0 !== 0xd61f0200) continue; // br x16
      const adrp = int32At(b, i - 8) >>> 0;
      const ldr = int32At(b, i - 4) >>> 0;
      if ((adrp & 0x9f00001f) >>> 0 !== 0x90000010 || (ldr & 0xffc003ff) >>> 0 !== 0xf9400210) continue;
      const imm = ((((adrp >>> 5) & 0x7ffff) << 2) | ((adrp >>> 29) & 3)) << 11 >> 11;
      const pc = c.start + i - 8;
      if (slots.has((pc & ~0xfff) + imm * 4096 + ((ldr >>> 10) & 0xfff) * 8)) out.push(pc);
    }
    return out;
  }
  for (let i = b.indexOf(0xff); i >= 0 && i + 6 <= b.length; i = b.indexOf(0xff, i + 1)) {
    if (b[i + 1] !== 0x25) continue;
    const disp = int32At(b, i + 2);
    const slot = arch === 'x64' ? c.start + i + 6 + disp : Number(BigInt(disp >>> 0) - imageBase);
    if (slots.has(slot)) out.push(c.start + i);
  }
  return out;
}

/** ARM64: adrp/adr whose page (or address) holds a slot, and ldr (literal) of a slot. */
export function scanArm64(c: CodeSection, slots: ReadonlySet<number>, pages: ReadonlySet<number>): number[] {
  const out: number[] = [];
  const b = c.bytes;
  for (let i = 0; i + 4 <= b.length; i += 4) {
    const w = int32At(b, i) >>> 0;
    const pc = c.start + i;
    if ((w & 0x1f000000) === 0x10000000) {
      const imm = ((((w >>> 5) & 0x7ffff) << 2) | ((w >>> 29) & 3)) << 11 >> 11;
      if (w >>> 31) {
        if (pages.has((pc & ~0xfff) + imm * 4096)) out.push(pc);
      } else if (slots.has(pc + imm)) out.push(pc);
    } else if ((w & 0xff000000) === 0x58000000) {
      if (slots.has(pc + ((((w >>> 5) & 0x7ffff) << 13) >> 11))) out.push(pc);
    }
  }
  return out;
}

/** Direct calls and jumps to any of `thunks`: E8/E9 rel32 on x86/x64, bl/b on ARM64. */
export function scanDirectBranches(c: CodeSection, thunks: ReadonlySet<number>, arm64: boolean): number[] {
  const out: number[] = [];
  const b = c.bytes;
  if (arm64) {
    for (let i = 0; i + 4 <= b.length; i += 4) {
      const w = int32At(b, i);
      if ((w & 0x7c000000) !== 0x14000000) continue;
      if (thunks.has(c.start + i + (((w & 0x3ffffff) << 6) >> 4))) out.push(c.start + i);
    }
    return out;
  }
  const u = new Uint8Array(b.buffer, b.byteOffset, b.length);
  for (const op of [0xe8, 0xe9]) {
    for (let i = u.indexOf(op); i >= 0 && i + 5 <= b.length; i = u.indexOf(op, i + 1)) {
      if (thunks.has(c.start + i + 5 + int32At(b, i + 1))) out.push(c.start + i);
    }
  }
  return out.sort((x, y) => x - y);
}

/** Function ranges from the exception directory (.pdata), sorted by start. */
export interface FunctionTable {
  starts: Uint32Array;
  /** End of function k, computed on first use (ARM64 lengths may need an .xdata read). */
  end(k: number): number;
  /**
   * x64: the start of the function that entry k continues, when k is a chained fragment
   * (UNW_FLAG_CHAININFO: a shrink-wrapped part of a function, not a function of its own).
   */
  parent(k: number): number | undefined;
}

const UNW_FLAG_CHAININFO = 4;

/**
 * How far before an implausible .pdata start decoding begins: x86 code falls back into step
 * within a few instructions, and the work stays bounded when the previous function is far.
 */
const UNTRUSTED_BACKTRACK = 256;

const MAX_PDATA_ENTRIES = 1 << 22;

export function functionTable(src: ByteSource, h: PeHeaders): FunctionTable | undefined {
  if (h.machine !== MACHINE_AMD64 && h.machine !== MACHINE_ARM64) return undefined;
  const dir = h.dataDirectories[DIR_EXCEPTION];
  if (!dir || dir.rva === 0 || dir.size === 0) return undefined;
  const span = locateRva(h, dir.rva);
  if (!span || span.available <= 0) return undefined;
  const entrySize = h.machine === MACHINE_AMD64 ? 12 : 8;
  const count = Math.min(Math.floor(Math.min(dir.size, span.available) / entrySize), MAX_PDATA_ENTRIES);
  if (count === 0) return undefined;
  const raw = src.read(span.offset, count * entrySize);
  const order = Array.from({ length: count }, (_, k) => k);
  const begin = (k: number): number => raw.readUInt32LE(k * entrySize);
  // The loader binary-searches .pdata, so it is sorted in any image that loads; sort anyway.
  let sorted = true;
  for (let k = 1; k < count && sorted; k++) sorted = begin(k - 1) <= begin(k);
  if (!sorted) order.sort((a, b) => begin(a) - begin(b));
  const starts = Uint32Array.from(order, begin);
  const ends = new Float64Array(count).fill(-1);
  const endOf = (k: number): number => {
    if (ends[k]! >= 0) return ends[k]!;
    const e = order[k]! * entrySize;
    let end: number;
    if (entrySize === 12) {
      end = raw.readUInt32LE(e + 4);
    } else {
      // ARM64: packed unwind data holds the length (in words); otherwise .xdata's first word does.
      const unwind = raw.readUInt32LE(e + 4);
      let words: number;
      if ((unwind & 3) !== 0) {
        words = (unwind >>> 2) & 0x7ff;
      } else {
        const x = locateRva(h, unwind);
        words = x && x.available >= 4 ? src.read(x.offset, 4).readUInt32LE(0) & 0x3ffff : 0;
      }
      end = starts[k]! + words * 4;
    }
    ends[k] = end;
    return end;
  };
  const parentOf = (k: number): number | undefined => {
    if (entrySize !== 12) return undefined;
    const x = locateRva(h, raw.readUInt32LE(order[k]! * entrySize + 8));
    if (!x || x.available < 4) return undefined;
    const head = src.read(x.offset, 4);
    if (((head[0]! >>> 3) & UNW_FLAG_CHAININFO) === 0) return undefined;
    // The parent's RUNTIME_FUNCTION follows the unwind codes (2 bytes each, an even count).
    const at = 4 + 2 * ((head[2]! + 1) & ~1);
    if (x.available < at + 4) return undefined;
    return src.read(x.offset + at, 4).readUInt32LE(0);
  };
  return { starts, end: endOf, parent: parentOf };
}

/**
 * Where to start and stop decoding to cover the instruction at `rva`: its .pdata function;
 * else the gap between two .pdata functions (leaf functions and import thunks have no
 * entry); else, without .pdata (x86), the whole section.
 *
 * Decoding must never start inside an instruction, and a hostile or packed image's .pdata
 * may be overlapping or wrong. So entries that overlap are taken together from the earliest
 * start, and on x86/x64 a start that neither follows padding (int3, nop) nor the previous
 * function's end nor the section's start is not trusted: decoding starts up to 256 bytes
 * earlier (not before the previous function's end), where it falls into step before the
 * function starts.
 */
export function regionFor(table: FunctionTable | undefined, c: CodeSection, rva: number, x86 = false): { start: number; end: number } {
  if (!table) return { start: c.start, end: c.end };
  const { starts } = table;
  const k = lastAtOrBefore(starts.length, (i) => starts[i]!, rva);
  const clamp = (r: { start: number; end: number }): { start: number; end: number } => ({
    start: Math.max(c.start, Math.min(r.start, c.end)),
    end: Math.min(c.end, Math.max(r.end, c.start)),
  });
  if (k >= 0) {
    const end = table.end(k);
    if (rva < end) {
      // A chained fragment is decoded from the start of the function it continues (when that
      // lies shortly before it in the section), so values set before the fragment are kept.
      const parent = table.parent(k);
      if (parent !== undefined && parent < starts[k]! && parent >= c.start && starts[k]! - parent <= 0x10000) {
        return clamp({ start: parent, end: Math.max(end, rva + 1) });
      }
      let first = k;
      for (let steps = 0; first > 0 && steps < 8 && table.end(first - 1) > starts[first]!; steps++) first--;
      let start = starts[first]!;
      if (x86) {
        const prevEnd = first > 0 ? Math.min(table.end(first - 1), start) : c.start;
        const before = c.bytes[start - c.start - 1];
        // Compilers start functions after padding (int3, nop), a ret, at 16-byte alignment,
        // or right where the previous one ends.
        const trusted = start <= c.start || start === prevEnd || (start & 15) === 0 || before === 0xcc || before === 0x90 || before === 0xc3;
        if (!trusted) start = Math.max(c.start, prevEnd, start - UNTRUSTED_BACKTRACK);
      }
      return clamp({ start, end: Math.max(end, rva + 1) });
    }
  }
  // Between functions: from the end of the one before to the start of the one after.
  // Chained entries of one function can overlap; take the furthest end before rva.
  let gapStart = c.start;
  for (let j = k; j >= 0 && j > k - 8; j--) gapStart = Math.max(gapStart, Math.min(table.end(j), rva));
  const next = k + 1 < starts.length ? starts[k + 1]! : c.end;
  return clamp({ start: gapStart, end: Math.max(next, rva + 1) });
}

/** Bounds of the slots, to skip most candidate addresses with two comparisons. */
export function slotBounds(slots: Iterable<number>): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of slots) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s + 1);
  }
  return { lo, hi };
}
