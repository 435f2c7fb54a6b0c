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

/** Where an argument came from, when not from the command line itself. */
export interface ArgOrigin {
  file: string;
  line?: number;
  key?: string;
}

export interface PlacedArg {
  arg: string;
  origin?: ArgOrigin;
}

/**
 * Expands @file arguments in place, recursively, as LLVM tools do. Relative
 * paths in nested response files are relative to the working directory, as in
 * LLVM (not to the response file).
 */
export function expandResponseFiles(args: readonly string[], quoting: Quoting, cwd: string): string[] {
  return expandPlaced(args.map((arg) => ({ arg })), quoting, cwd).map((a) => a.arg);
}

/** expandResponseFiles, each argument with where it came from: the response file and line that hold it. */
export function expandPlaced(args: readonly PlacedArg[], quoting: Quoting, cwd: string, depth = 0): PlacedArg[] {
  const out: PlacedArg[] = [];
  for (const placed of args) {
    const arg = placed.arg;
    if (!arg.startsWith('@') || arg.length === 1) {
      out.push(placed);
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
    // Each token's line: where its text is next found (a quoted token may not be found as it is).
    let at = 0;
    const tokens = tokenize(text, quoting).map((token) => {
      const found = token === '' ? -1 : text.indexOf(token, at);
      if (found < 0) return { arg: token, origin: { file } };
      at = found + token.length;
      return { arg: token, origin: { file, line: lineAt(text, found) } };
    });
    out.push(...expandPlaced(tokens, quoting, cwd, depth + 1));
  }
  return out;
}

/** The 1-based line of a position in a text. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Response files may be UTF-16 (either byte order) with a BOM, as Visual Studio writes them, or UTF-8. */
function decode(buf: Buffer): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf[0] === 0xfe && buf[1] === 0xff) return Buffer.from(buf.subarray(2)).swap16().toString('utf16le');
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  return buf.toString('utf8');
}

