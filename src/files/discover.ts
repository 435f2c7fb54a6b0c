import { readdir, readdirSync, statSync, type Dirent } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { peSignature } from './pe-signature.js';
import { fileKind } from './regular-file.js';
import { globPattern, ignoresCase, toRegExp } from './glob.js';
import { escapeInvalidUtf8 } from '../escape.js';
import { REJECTED_SUFFIX } from './rejected.js';
import { importModule } from '../import-module.js';

export interface DiscoverOptions {
  cwd: string;
  /** Globs relative to `ignoreBase` that directory and glob searches skip. */
  ignore: readonly string[];
  ignoreBase: string;
  /** Whose globs: on Windows they take backslashes and ignore case (glob.ts); the host's by default. */
  platform?: NodeJS.Platform;
}

/** One file to check, or one entry of a search that could not be checked. */
export interface DiscoveredFile {
  /** The path to check and show; for a name that is not valid UTF-8, its bytes escaped (\xNN). */
  path: string;
  /** The path's bytes, when its name is not valid UTF-8 (the escaped `path` cannot be opened). */
  raw?: Buffer;
  /** Why the entry could not be searched or read ('permission denied'); it is reported as unreadable. */
  problem?: string;
}

/** What a search found: the files, the inputs that found none, and the images set aside by the wrappers it skipped. */
export interface Discovery {
  files: DiscoveredFile[];
  /** Globs and directories that found no file to check, as given on the command line. */
  empty: { input: string; kind: 'glob' | 'directory' }[];
  /** `*.rejected` files (images the wrappers moved aside) that directory and glob searches skipped. */
  rejected: string[];
}

/** A path named on the command line that is not a regular file or a directory (a FIFO, a device, a socket). */
export class NotRegularFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path}: is a ${kind}, not a regular file or directory; not read`);
    this.name = 'NotRegularFileError';
  }
}

const ALWAYS_IGNORED = ['**/node_modules/**', '**/.git/**'];
const GLOB_CHARS = /[*?[\]{}()!]/;

/**
 * Turns command-line inputs into the files to check. A file named on the
 * command line is always checked (a broken one is reported, not skipped), and
 * anything named there that is neither a file nor a directory is refused
 * (NotRegularFileError) before it is opened: reading a FIFO waits forever.
 * Directories are searched recursively and globs expanded, keeping only regular
 * files with an MZ/PE signature whatever their extension; in a search, an
 * entry that cannot be read or listed is returned with its `problem`, and one
 * whose name is not valid UTF-8 with its `raw` bytes, so neither is dropped.
 * Names that match nothing are returned as they are, so the check reports
 * them as unreadable; a directory or glob that finds nothing is listed in `empty`.
 * Searches skip `<name>.rejected`: an image a wrapper refused and set aside is not the build's.
 */
export async function discoverFiles(inputs: readonly string[], options: DiscoverOptions): Promise<Discovery> {
  const out: DiscoveredFile[] = [];
  const empty: Discovery['empty'] = [];
  const rejected = new Set<string>();
  // Found by this input before removing duplicates: a glob that repeats another still found files.
  const take = (files: readonly DiscoveredFile[], input: string, kind: 'glob' | 'directory'): void => {
    let count = 0;
    for (const f of files) {
      if (f.path.endsWith(REJECTED_SUFFIX) && f.problem === undefined) rejected.add(f.path);
      else {
        count++;
        add(f);
      }
    }
    if (count === 0) empty.push({ input, kind });
  };
  const platform = options.platform ?? process.platform;
  // On Windows X64\one.sys (a glob keeps the case typed) and x64\one.sys are one file.
  const sameFile = (path: string): string => (ignoresCase(platform) ? path.toLowerCase() : path);
  const seen = new Set<string>();
  const add = (f: DiscoveredFile): void => {
    if (!seen.has(sameFile(f.path))) {
      seen.add(sameFile(f.path));
      out.push(f);
    }
  };
  // Compiled on the first directory search: a check of named files never loads the matcher.
  let skip: IgnoreTest | undefined;
  for (const input of inputs) {
    const abs = resolve(options.cwd, input);
    let kind: string | undefined;
    try {
      kind = fileKind(statSync(abs));
    } catch {
      // not a path: maybe a glob
    }
    if (kind === 'regular file') {
      add({ path: abs });
    } else if (kind === 'directory') {
      skip ??= ignoreTest(options.ignore, options.ignoreBase, platform);
      take(searchDirectory(abs, skip), input, 'directory');
    } else if (kind !== undefined) {
      throw new NotRegularFileError(input, kind);
    } else if (GLOB_CHARS.test(input)) {
      take(await expand(input, options.cwd, options.ignore, platform), input, 'glob');
    } else {
      add({ path: abs });
    }
  }
  return { files: out, empty, rejected: [...rejected].sort() };
}

/** Whether a directory search skips a path (a directory when isDir). */
export type IgnoreTest = (path: string, isDir: boolean) => boolean;

/**
 * What a directory search skips: node_modules, .git and the config's `ignore` globs, matched
 * against the path relative to `ignoreBase` (the config's directory; absolute outside it).
 */
export function ignoreTest(ignore: readonly string[], ignoreBase: string, platform: NodeJS.Platform = process.platform): IgnoreTest {
  const res = [...ALWAYS_IGNORED, ...ignore].map((p) => toRegExp(p, platform));
  return (path, isDir) => {
    const rel = relative(ignoreBase, path);
    const key = (rel.startsWith('..') || isAbsolute(rel) ? path : rel).split(sep).join('/');
    return res.some((re) => re.test(key) || (isDir && re.test(`${key}/`)));
  };
}

/**
 * A directory, searched depth-first with the names as bytes (a name that is not
 * UTF-8 would not survive a round trip through a string). Symbolic links are not
 * followed and FIFOs, sockets and devices not opened; the result is sorted by path.
 */
function searchDirectory(root: string, ignored: IgnoreTest): DiscoveredFile[] {
  const found: DiscoveredFile[] = [];
  const visit = (dir: Buffer, shown: string): void => {
    let entries: Dirent<Buffer>[];
    try {
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      found.push({ path: shown, problem: `directory cannot be listed: ${describeIoError(err)}`, ...(isUtf8(dir) ? {} : { raw: dir }) });
      return;
    }
    for (const e of entries) {
      const raw = Buffer.concat([dir, Buffer.from(sep), e.name]);
      const valid = isUtf8(raw);
      const path = valid ? raw.toString('utf8') : escapeInvalidUtf8(raw);
      if (e.isDirectory()) {
        if (!ignored(path, true)) visit(raw, path);
      } else if (e.isFile() && !ignored(path, false)) {
        const sig = peSignature(raw);
        const extra = valid ? {} : { raw };
        if (sig === 'pe') found.push({ path, ...extra });
        else if (sig !== 'not-pe') found.push({ path, problem: describeIoError(sig.error), ...extra });
      }
    }
  };
  visit(Buffer.from(root), root);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A glob, expanded by globby; a directory it cannot list is reported, not a reason to stop. */
async function expand(pattern: string, cwd: string, ignore: readonly string[], platform: NodeJS.Platform): Promise<DiscoveredFile[]> {
  const { globby } = await importModule<typeof import('globby')>('globby');
  const problems: DiscoveredFile[] = [];
  const found = await globby(globPattern(pattern, platform), {
    cwd,
    absolute: true,
    onlyFiles: true,
    dot: true,
    followSymbolicLinks: false,
    caseSensitiveMatch: !ignoresCase(platform),
    ignore: [...ALWAYS_IGNORED, ...ignore].map((p) => globPattern(p, platform)),
    fs: {
      readdir: ((path: string, opts: object, callback: (err: NodeJS.ErrnoException | null, entries: Dirent[]) => void) =>
        readdir(path, opts as { withFileTypes: true }, (err, entries) => {
          if (!err) return callback(null, entries);
          // A glob's directory that is not there matches nothing; the caller says so.
          if (err.code !== 'ENOENT') problems.push({ path: resolve(cwd, path), problem: `directory cannot be listed: ${describeIoError(err)}` });
          callback(null, []);
        })) as unknown as typeof readdir,
    },
  });
  const files: DiscoveredFile[] = [];
  // resolve: globby answers in '/' form, and on Windows a file named on the command line is in '\\' form.
  for (const path of found.map((p) => resolve(p)).sort()) {
    const sig = peSignature(path);
    if (sig === 'pe') files.push({ path });
    else if (sig !== 'not-pe') {
      // globby decodes names to strings: a name that is not UTF-8 comes back with U+FFFD and cannot be opened.
      const lost = sig.error.code === 'ENOENT' && path.includes('\uFFFD');
      files.push({ path, problem: lost ? 'name is not valid UTF-8 (a glob cannot name it; search its directory instead)' : describeIoError(sig.error) });
    }
  }
  return [...files, ...problems];
}

/** An I/O error as a short reason: 'permission denied', 'ENAMETOOLONG: name too long, ...'. */
export function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EPERM: 'operation not permitted' };
  if (e && typeof e.code === 'string') return reasons[e.code] ?? e.code;
  return err instanceof Error ? err.message : String(err);
}
