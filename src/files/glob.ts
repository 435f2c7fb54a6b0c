import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A small glob for the build's source lists (`src/**\/*.c`, `*.{c,cpp}`,
 * `!src/old/**`): a no-op `hvci-build build` has a 150 ms budget and loading
 * globby's fast-glob took ~40 ms of it. `check` keeps globby for full syntax.
 */
export function globFiles(patterns: readonly string[], cwd: string): string[] {
  const clean = patterns.map((p) => (p.startsWith('!') ? '!' + p.slice(1).replace(/^\.\//, '') : p.replace(/^\.\//, '')));
  const include = clean.filter((p) => !p.startsWith('!'));
  const exclude = clean.filter((p) => p.startsWith('!')).map((p) => toRegExp(p.slice(1)));
  const found = new Set<string>();
  for (const original of include) {
    // An absolute pattern is walked from the root, as a relative one from cwd.
    const root = original.startsWith('/') ? '/' : cwd;
    const pattern = original.startsWith('/') ? original.replace(/^\/+/, '') : original;
    const re = toRegExp(pattern);
    const segments = pattern.split('/');
    const firstMagic = segments.findIndex((s) => /[*?[{]/.test(s));
    const base = firstMagic < 0 ? segments.slice(0, -1).join('/') : segments.slice(0, firstMagic).join('/');
    // Deep when a wildcard stands in a directory part, not only in the file name.
    const deep = firstMagic >= 0 && firstMagic < segments.length - 1;
    walk(root, base, deep, (rel) => {
      if (re.test(rel) && !exclude.some((x) => x.test(rel))) found.add(join(root, rel));
    });
  }
  return [...found].sort();
}

function walk(cwd: string, dir: string, deep: boolean, visit: (rel: string) => void): void {
  let entries;
  try {
    entries = readdirSync(join(cwd, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (deep && !e.name.startsWith('.') && e.name !== 'node_modules') walk(cwd, rel, deep, visit);
    } else if (e.isFile()) {
      visit(rel);
    }
  }
}

/** Glob to RegExp over '/'-separated relative paths. */
export function toRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // '**/' matches any number of directories, including none.
      if (pattern[i + 2] === '/') {
        re += '(?:[^/]*/)*';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) {
        re += '\\{';
        continue;
      }
      re += `(?:${pattern.slice(i + 1, end).split(',').map(escape).join('|')})`;
      i = end;
    } else {
      re += escape(c);
    }
  }
  return new RegExp(`^${re}$`);
}

function escape(s: string): string {
  return s.replace(/[.+^$()|[\]\\]/g, '\\$&');
}
