import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The build's source lists (`src/**\/*.c`, `*.{c,cpp}`, `!src/old/**`), walked here and
 * matched by picomatch (see toRegExp): a no-op `hvci-build build` has a 150 ms budget and
 * loading globby's fast-glob took ~40 ms of it.
 */
export function globFiles(patterns: readonly string[], cwd: string, platform: NodeJS.Platform = process.platform): string[] {
  const clean = patterns
    .map((p) => globPattern(p, platform))
    .map((p) => (p.startsWith('!') ? '!' + p.slice(1).replace(/^\.\//, '') : p.replace(/^\.\//, '')));
  const include = clean.filter((p) => !p.startsWith('!'));
  const exclude = clean.filter((p) => p.startsWith('!')).map((p) => toRegExp(p.slice(1), platform));
  const found = new Set<string>();
  for (const original of include) {
    // An absolute pattern is walked from the root (a drive's on Windows), as a relative one from cwd.
    const absolute = (platform === 'win32' ? /^(?:[A-Za-z]:)?\/+/ : /^\/+/).exec(original)?.[0];
    const root = absolute === undefined ? cwd : (/^[A-Za-z]:/.exec(absolute)?.[0] ?? '') + '/';
    const pattern = absolute === undefined ? original : original.slice(absolute.length);
    const re = toRegExp(pattern, platform);
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

/**
 * Glob to RegExp over '/'-separated relative paths, by picomatch: the matcher globby itself
 * uses (through micromatch), so `check`'s globs, `ignore` and the build's sources share one
 * dialect. picomatch alone loads in about 5 ms, where globby's fast-glob costs 40 ms of the
 * no-op build's budget.
 */
export function toRegExp(pattern: string, platform: NodeJS.Platform = process.platform): RegExp {
  // windows: false, for the matched paths are always '/'-joined here.
  return picomatch().makeRe(globPattern(pattern, platform), { dot: true, nocase: ignoresCase(platform), windows: false });
}

/**
 * A glob as the host's users write it, in the '/' form the matchers take: on Windows a
 * backslash separates path parts (`drivers\**\*.sys`, `C:\out\*.sys`), as everywhere else
 * there, so it cannot escape a glob character (`[*]` still can).
 */
export function globPattern(pattern: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? pattern.replace(/\\/g, '/') : pattern;
}

/** Whether the host's file names ignore case, so its globs should too (`*.SYS` finds driver.sys on Windows). */
export function ignoresCase(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'win32';
}

type Picomatch = { makeRe(pattern: string, options?: { dot?: boolean; nocase?: boolean; windows?: boolean }): RegExp };
let loaded: Picomatch | undefined;
const picomatch = (): Picomatch => (loaded ??= createRequire(import.meta.url)('picomatch') as Picomatch);
