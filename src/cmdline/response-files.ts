import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { tokenize, type Quoting } from './tokenize.js';

/** A bad response file: named, with the reason, for a one-line error. */
export class ResponseFileError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`response file ${file}: ${reason}`);
    this.name = 'ResponseFileError';
  }
}

const MAX_DEPTH = 20;

/**
 * Expands @file arguments in place, recursively, as LLVM tools do. Relative
 * paths in nested response files are relative to the working directory, as in
 * LLVM (not to the response file).
 */
export function expandResponseFiles(args: readonly string[], quoting: Quoting, cwd: string, depth = 0): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (!arg.startsWith('@') || arg.length === 1) {
      out.push(arg);
      continue;
    }
    const file = resolve(cwd, arg.slice(1));
    if (depth >= MAX_DEPTH) throw new ResponseFileError(file, 'response files nested too deeply');
    let text: string;
    try {
      text = decode(readFileSync(file));
    } catch (err) {
      throw new ResponseFileError(file, (err as NodeJS.ErrnoException).code ?? String(err));
    }
    out.push(...expandResponseFiles(tokenize(text, quoting), quoting, cwd, depth + 1));
  }
  return out;
}

/** Response files may be UTF-16 (either byte order) with a BOM, as Visual Studio writes them, or UTF-8. */
function decode(buf: Buffer): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf[0] === 0xfe && buf[1] === 0xff) return Buffer.from(buf.subarray(2)).swap16().toString('utf16le');
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  return buf.toString('utf8');
}

