/**
 * Where hvci-build keeps what it computes once and reuses (iced-x86's snapshot, the CLI's
 * compiled code): HVCI_CACHE_DIR if set, else node_modules/.cache/hvci-build in the
 * project that installed us (or in our own checkout), else a directory of our own (in the
 * temp directory; on Windows in %LOCALAPPDATA%). HVCI_NO_CODE_CACHE=1 turns all of it
 * off. Failing to read or write is never an error.
 *
 * Some of these files are run (compiled code, a config's JavaScript), so a directory
 * someone else can write to is never used: it must belong to this user (or root) and be
 * writable by nobody else. Only the last directory of the path is checked. Every file
 * carries a CRC-32 of its contents, checked before they are handed out.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeAtomically } from './files/write-atomically.js';

export const cachingEnabled = (): boolean => !process.env.HVCI_NO_CODE_CACHE;

const POSIX = process.platform !== 'win32' && typeof process.getuid === 'function';

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
  // Looked at only when the first place fails.
  const own = privateDir('hvci-build-cache');
  if (own) yield join(own, name);
}

/** True for a directory of this user's (or root's) that nobody else can write to. */
function trusted(dir: string): boolean {
  if (!POSIX) return true; // ACLs, not modes: the places used on Windows are the user's own
  try {
    const st = statSync(dir);
    return st.isDirectory() && (st.uid === process.getuid!() || st.uid === 0) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * A directory for this user alone: `prefix`-`uid` in the temp directory, made with mode
 * 0700 if missing, and refused if it is a symbolic link, another user's, or writable by
 * others (one readable by others is closed first). On Windows, `prefix` in %LOCALAPPDATA%
 * (a shared temp directory such as C:\Windows\Temp would let others make it first).
 */
export function privateDir(prefix: string): string | undefined {
  if (!POSIX) {
    const base = process.env.LOCALAPPDATA;
    if (!base) return undefined;
    const dir = join(base, 'hvci-build', prefix);
    try {
      mkdirSync(dir, { recursive: true });
      return dir;
    } catch {
      return undefined;
    }
  }
  const uid = process.getuid!();
  const dir = join(tmpdir(), `${prefix}-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
    if ((st.mode & 0o077) !== 0) chmodQuietly(dir);
    return dir;
  } catch {
    return undefined;
  }
}

function chmodQuietly(dir: string): void {
  try {
    chmodSync(dir, 0o700);
  } catch {
    // readable by others, still not writable by them: usable
  }
}

/**
 * The body of the cache file `name` written with `magic`, if there is one and it is whole:
 * each file is framed by an 8-byte magic, the body's length and its CRC-32 (u32 LE each).
 */
export function readCache(name: string, packageRoot: string, magic: string): Buffer | undefined {
  for (const file of places(name, packageRoot)) {
    if (!trusted(dirname(file))) continue;
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      continue; // not there
    }
    if (data.length < FRAME || data.toString('latin1', 0, 8) !== magic) return undefined;
    const body = data.subarray(FRAME);
    try {
      return data.readUInt32LE(8) === body.length && data.readUInt32LE(12) === crc32(body) ? body : undefined;
    } catch {
      return undefined; // no zlib.crc32 (Node before 20.15)
    }
  }
  return undefined;
}

const FRAME = 16;

/** The first trusted directory `name` can live in (made if missing), for a cache another component writes (Node's compile cache). */
export function cacheDirectory(name: string, packageRoot: string): string | undefined {
  for (const dir of places(name, packageRoot)) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch {
      continue;
    }
    if (trusted(dir)) return dir;
  }
  return undefined;
}

/** Writes `body` framed (see readCache) to the first place that takes it; returns where. */
export function writeCache(name: string, packageRoot: string, magic: string, body: Uint8Array): string | undefined {
  const frame = Buffer.alloc(FRAME);
  frame.write(magic, 0, 8, 'latin1');
  frame.writeUInt32LE(body.length, 8);
  frame.writeUInt32LE(crc32(body), 12);
  const data = Buffer.concat([frame, body]);
  for (const file of places(name, packageRoot)) {
    // Made as nobody else may write, whatever the umask.
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    } catch {
      continue;
    }
    if (!trusted(dirname(file))) continue;
    try {
      writeAtomically(file, data);
      return file;
    } catch {
      // not writable: the next place
    }
  }
  return undefined;
}

/**
 * CRC-32, to refuse a damaged cache file before it is used (V8 checks only the length of
 * compiled code and aborts the process on bad bytes; a damaged decoder table would give
 * wrong findings). node:zlib loads the stream modules, which writing to stdout loads
 * anyway: 0.8 ms net, against 2 ms for a checksum in JavaScript in a fresh process.
 */
function crc32(data: Uint8Array): number {
  return zlib().crc32(data);
}

const zlib = (): typeof import('node:zlib') => createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');

/**
 * A short name for a string (CRC-32, base 36), to keep apart the caches of different
 * installs or versions. Native: a JavaScript FNV-1a over the decoder binding's 2 KB id took
 * 0.4 to 1.6 ms of every start-up in the interpreter.
 */
export function shortHash(text: string): string {
  return (zlib().crc32(text) >>> 0).toString(36);
}
