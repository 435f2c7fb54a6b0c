/**
 * Where hvci-build keeps what it computes once and reuses (iced-x86's snapshot, the CLI's
 * compiled code): HVCI_CACHE_DIR if set, else node_modules/.cache/hvci-build in the
 * project that installed us (or in our own checkout), else a directory of our own in the
 * temp directory. HVCI_NO_CODE_CACHE=1 turns all of it off. Failing to read or write is
 * never an error.
 *
 * Some of these files are run (compiled code, a config's JavaScript), so a place anyone
 * else can write to is never used: in the shared temp directory only a directory that
 * this user owns and nobody else may enter.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const cachingEnabled = (): boolean => !process.env.HVCI_NO_CODE_CACHE;

/** The places for the cache file `name`, best first; `packageRoot` is hvci-build's own root. */
function* places(name: string, packageRoot: string): Generator<string> {
  const override = process.env.HVCI_CACHE_DIR;
  if (override) {
    yield join(override, name);
    return;
  }
  let parent = dirname(packageRoot);
  if (basename(parent).startsWith('@')) parent = dirname(parent);
  const nodeModules = basename(parent) === 'node_modules' ? parent : join(packageRoot, 'node_modules');
  yield join(nodeModules, '.cache', 'hvci-build', name);
  // Checked only when the first place fails.
  const own = privateTempDir('hvci-build-cache');
  if (own) yield join(own, name);
}

/**
 * `prefix`-`uid` in the temp directory, made if missing, if it is a real directory that
 * this user owns and that nobody else can read or write; undefined otherwise. (On Windows
 * the temp directory is the user's own.)
 */
export function privateTempDir(prefix: string): string | undefined {
  const uid = process.getuid?.();
  const dir = join(tmpdir(), uid === undefined ? prefix : `${prefix}-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  if (uid === undefined) return dir;
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

export function readCache(name: string, packageRoot: string): Buffer | undefined {
  for (const file of places(name, packageRoot)) {
    try {
      return readFileSync(file);
    } catch {
      // not there
    }
  }
  return undefined;
}

/**
 * Writes to the first place that takes it, under a temporary name then renamed, so a
 * reader never sees half a file. Returns where it wrote.
 */
export function writeCache(name: string, packageRoot: string, data: Uint8Array): string | undefined {
  for (const file of places(name, packageRoot)) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      // Unique per process and per worker thread: each writes its own, then renames.
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, file);
      return file;
    } catch {
      // not writable: try the next place
    }
  }
  return undefined;
}

/**
 * CRC-32 of `data`, to refuse a damaged cache file before V8 reads it (V8 checks only the
 * length of compiled code, and aborts the process on bad bytes). node:zlib loads the
 * stream modules, which writing to stdout loads anyway: 0.8 ms net, against 2 ms for a
 * checksum in JavaScript in a fresh process.
 */
export function crc32(data: Uint8Array): number {
  return zlib().crc32(data);
}

const zlib = (): typeof import('node:zlib') => createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
