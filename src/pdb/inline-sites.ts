/**
 * Inlined calls: an S_INLINESITE record inside a procedure says which code of it belongs to
 * an inlined function, and at which lines of that function, as "binary annotations" (code
 * and line deltas from the procedure's start and from the line the module's
 * DEBUG_S_INLINEELINES gives the inlinee). A call instruction in inlined code is at a line of
 * the inlined function; the procedure's own line table gives the line that called it.
 */

/** One inlined call: its code as [start, end) offsets from the procedure's start, each with a line. */
export interface InlineSite {
  /** The inlinee's item id (an LF_FUNC_ID record of the IPI stream). */
  inlinee: number;
  /** Nesting depth under the procedure (1 for a site directly in it). */
  depth: number;
  /** Offsets ascending; `line` 0 ends a range (code between ranges is not the site's). */
  entries: { offset: number; line: number; file: number | undefined }[];
}

/** Where an inlinee's source starts: file (offset in the module's checksums) and line. */
export interface InlineeStart {
  file: number;
  line: number;
}

const ChangeCodeOffset = 3;
const ChangeCodeLength = 4;
const ChangeFile = 5;
const ChangeLineOffset = 6;
const ChangeCodeOffsetAndLineOffset = 11;
const ChangeCodeLengthAndCodeOffset = 12;
/** Operand counts of the opcodes (0 Invalid ends the list). */
const OPERANDS = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1];

/** CodeView's compressed unsigned integer: 1, 2 or 4 bytes. Undefined past the end or for a bad lead byte. */
function uncompress(b: Buffer, at: number): { value: number; next: number } | undefined {
  const x = b[at];
  if (x === undefined) return undefined;
  if ((x & 0x80) === 0) return { value: x, next: at + 1 };
  if ((x & 0xc0) === 0x80 && at + 1 < b.length) return { value: ((x & 0x3f) << 8) | b[at + 1]!, next: at + 2 };
  if ((x & 0xe0) === 0xc0 && at + 3 < b.length) return { value: (((x & 0x1f) << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0, next: at + 4 };
  return undefined;
}

const signed = (v: number): number => (v & 1 ? -(v >>> 1) : v >>> 1);

/**
 * The line entries of one site's annotations. Every opcode that moves the code offset
 * starts an entry at the new offset; a line change with no code change moves the line of
 * the entry at the current offset; a code length ends the open range.
 */
export function decodeAnnotations(b: Buffer, start: InlineeStart | undefined): InlineSite['entries'] {
  const out: InlineSite['entries'] = [];
  let offset = 0;
  let line = start?.line ?? 0;
  let file = start?.file;
  let pendingLine = false;
  const enter = (): void => {
    const last = out.at(-1);
    if (last && last.offset === offset) out[out.length - 1] = { offset, line, file };
    else out.push({ offset, line, file });
  };
  // A line change alone belongs to the current offset unless a code offset change follows.
  const settle = (): void => {
    if (pendingLine) enter();
    pendingLine = false;
  };
  for (let at = 0; at < b.length; ) {
    const op = b[at]!;
    if (op === 0 || op >= OPERANDS.length) break;
    at++;
    const args: number[] = [];
    for (let i = 0; i < OPERANDS[op]!; i++) {
      const v = uncompress(b, at);
      if (!v) return out;
      args.push(v.value);
      at = v.next;
    }
    const [a = 0, c = 0] = args;
    switch (op) {
      case ChangeCodeOffset:
        offset += a;
        pendingLine = false;
        enter();
        break;
      case ChangeCodeOffsetAndLineOffset:
        settle();
        line += signed(a >>> 4);
        offset += a & 0xf;
        enter();
        break;
      case ChangeLineOffset:
        settle();
        line += signed(a);
        pendingLine = true;
        break;
      case ChangeFile:
        settle();
        file = a;
        break;
      case ChangeCodeLength:
        settle();
        offset += a;
        out.push({ offset, line: 0, file: undefined });
        break;
      case ChangeCodeLengthAndCodeOffset:
        settle();
        offset += c;
        enter();
        offset += a;
        out.push({ offset, line: 0, file: undefined });
        break;
      default:
        settle();
    }
  }
  settle();
  return out;
}

/** DEBUG_S_INLINEELINES: each inlinee's starting file and line. */
export function readInlineeLines(b: Buffer, at: number, len: number, out: Map<number, InlineeStart>): void {
  const end = Math.min(b.length, at + len);
  if (at + 4 > end) return;
  const extended = b.readUInt32LE(at) === 1;
  for (let p = at + 4; p + 12 <= end; ) {
    out.set(b.readUInt32LE(p), { file: b.readUInt32LE(p + 4), line: b.readUInt32LE(p + 8) });
    p += 12;
    if (extended) {
      if (p + 4 > end) return;
      p += 4 + 4 * b.readUInt32LE(p);
    }
  }
}
