import { damaged } from './errors.js';

/**
 * Bounded little-endian reads of one stream: any read past its end is a damaged PDB
 * (a 'stream' problem naming the stream), never a RangeError.
 */
export class StreamReader {
  constructor(
    readonly b: Buffer,
    readonly what: string,
  ) {}

  get length(): number {
    return this.b.length;
  }

  check(at: number, n: number): void {
    if (at < 0 || n < 0 || at + n > this.b.length) damaged('stream', `${this.what} stream cut short (${n} bytes at ${at} of ${this.b.length})`);
  }

  u8(at: number): number {
    this.check(at, 1);
    return this.b[at]!;
  }

  u16(at: number): number {
    this.check(at, 2);
    return this.b.readUInt16LE(at);
  }

  u32(at: number): number {
    this.check(at, 4);
    return this.b.readUInt32LE(at);
  }

  i32(at: number): number {
    this.check(at, 4);
    return this.b.readInt32LE(at);
  }

  bytes(at: number, n: number): Buffer {
    this.check(at, n);
    return this.b.subarray(at, at + n);
  }

  /** A NUL-terminated UTF-8 string at `at` and the offset after its NUL. */
  cstr(at: number): { text: string; next: number } {
    this.check(at, 1);
    const end = this.b.indexOf(0, at);
    if (end < 0) damaged('stream', `${this.what} stream: unterminated string at ${at}`);
    return { text: this.b.toString('utf8', at, end), next: end + 1 };
  }
}

/** Visits the CodeView symbol records of `b` from `start`: kind and the bytes after the kind. Stops at a bad length. */
export function forEachRecord(b: Buffer, start: number, visit: (kind: number, rec: Buffer, at: number) => void): void {
  for (let p = start; p + 4 <= b.length; ) {
    const len = b.readUInt16LE(p);
    if (len < 2 || p + 2 + len > b.length) return;
    visit(b.readUInt16LE(p + 2), b.subarray(p + 4, p + 2 + len), p);
    p += 2 + len;
  }
}

/** A NUL-terminated string inside a record (to its end when unterminated). */
export function recordString(b: Buffer, at: number): string {
  if (at >= b.length) return '';
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 ? b.length : end);
}
