import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { looksLikePe } from './pe-signature.js';
import { importModule } from '../import-module.js';

export interface DiscoverOptions {
  cwd: string;
  /** Globs relative to `ignoreBase` that directory and glob searches skip. */
  ignore: readonly string[];
  ignoreBase: string;
}

const ALWAYS_IGNORED = ['**/node_modules/**', '**/.git/**'];
const GLOB_CHARS = /[*?[\]{}()!]/;

/**
 * Turns command-line inputs into the files to check. A file named on the
 * command line is always checked (a broken one is reported, not skipped);
 * directories are searched recursively and globs expanded, keeping only files
 * with an MZ/PE signature whatever their extension. Names that match nothing
 * are returned as they are, so the check reports them as unreadable.
 */
export async function discoverFiles(inputs: readonly string[], options: DiscoverOptions): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const input of inputs) {
    const abs = resolve(options.cwd, input);
    let isDir = false;
    let exists = false;
    try {
      isDir = statSync(abs).isDirectory();
      exists = true;
    } catch {
      // not a path: maybe a glob
    }
    if (exists && !isDir) {
      add(abs);
    } else if (exists || GLOB_CHARS.test(input)) {
      const pattern = exists ? globFor(abs, '**/*', options.ignoreBase) : input;
      const cwd = exists ? options.ignoreBase : options.cwd;
      for (const p of await expand(pattern, cwd, options.ignore)) {
        if (looksLikePe(p)) add(p);
      }
    } else {
      add(abs);
    }
  }
  return out;
}

function globFor(dir: string, tail: string, base: string): string {
  const rel = relative(base, dir);
  const root = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? dir : rel;
  return `${root.split(sep).join('/')}/${tail}`;
}

async function expand(pattern: string, cwd: string, ignore: readonly string[]): Promise<string[]> {
  const { globby } = await importModule<typeof import('globby')>('globby');
  const found = await globby(pattern, {
    cwd,
    absolute: true,
    onlyFiles: true,
    dot: true,
    followSymbolicLinks: false,
    ignore: [...ALWAYS_IGNORED, ...ignore],
  });
  return found.sort();
}
