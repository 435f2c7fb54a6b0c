/**
 * Names from the input (file names, section names, DLL names) reach a terminal
 * through text and GitHub output; a newline or an escape sequence in one must
 * not start a fake finding or drive the terminal. Control characters (C0, DEL,
 * C1, and the bidirectional overrides that reorder what is shown) become
 * visible escapes.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

// eslint-disable-next-line no-control-regex
const CONTROLS_BUT_LINE_BREAKS = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `s` with control characters as \xNN (\u{NNNN} above U+00FF); CR and LF kept when the format escapes them itself. */
export function escapeControls(s: string, keepLineBreaks = false): string {
  return s.replace(keepLineBreaks ? CONTROLS_BUT_LINE_BREAKS : CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : `\\u{${code.toString(16).toUpperCase()}}`;
  });
}

/** A path's bytes as text: valid UTF-8 as it is, every other byte as \xNN. */
export function escapeInvalidUtf8(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8Sequence(bytes, i);
    if (n === 0) {
      out += `\\x${bytes[i]!.toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    } else {
      out += Buffer.from(bytes.buffer, bytes.byteOffset + i, n).toString('utf8');
      i += n;
    }
  }
  return out;
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlongs, surrogates or values past U+10FFFF), or 0. */
function utf8Sequence(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const ok = c === 0xe0 ? cont(1, 0xa0) : c === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return ok && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const ok = c === 0xf0 ? cont(1, 0x90) : c === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return ok && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
