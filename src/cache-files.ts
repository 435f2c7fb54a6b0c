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
 * A 32-bit checksum of `data`, to refuse a damaged cache file before V8 reads it (V8
 * checks only the length of compiled code, and aborts the process on bad bytes). Four
 * lanes of multiply-xor over 32-bit words: about 1.7 ms for 200 KB in a fresh process,
 * where loading node:zlib or node:crypto for a native one costs more.
 */
export function checksum32(data: Uint8Array): number {
  const bytes = data.byteOffset % 4 === 0 ? data : Uint8Array.from(data);
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, (bytes.length >> 4) << 2);
  let a = 0x243f6a88;
  let b = 0x85a308d3;
  let c = 0x13198a2e;
  let d = 0x03707344;
  for (let j = 0; j < words.length; j += 4) {
    a = Math.imul(a ^ words[j]!, 0x9e3779b1);
    b = Math.imul(b ^ words[j + 1]!, 0x85ebca6b);
    c = Math.imul(c ^ words[j + 2]!, 0xc2b2ae35);
    d = Math.imul(d ^ words[j + 3]!, 0x27d4eb2f);
  }
  for (let i = words.length * 4; i < bytes.length; i++) a = Math.imul(a ^ bytes[i]!, 0x9e3779b1);
  return (Math.imul(a, 3) ^ Math.imul(b, 5) ^ Math.imul(c, 7) ^ d ^ bytes.length) >>> 0;
}
