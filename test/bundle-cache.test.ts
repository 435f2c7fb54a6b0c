// The CLI's code cache (src/cli/bundle-cache.ts): written once per bundle and profile,
// reused, replaced when damaged or built again, never needed for a correct result.
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { privateDir, readCache, shortHash, writeCache } from '../src/cache-files.js';
import { writeAtomically } from '../src/files/write-atomically.js';
import { buildFixture } from './fixtures/build.js';
import { runCli } from './helpers/cli.js';
import { prng } from './helpers/image-edit.js';
import { tempDir } from './helpers/toolchain.js';

let driver: string;
const dirs: string[] = [];
const cacheDir = (): string => {
  const d = tempDir('code-cache');
  dirs.push(d);
  return d;
};
const caches = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.v8cache')).sort();

beforeAll(async () => {
  driver = await buildFixture('callsite-pool-x64-o2');
}, 600_000);

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('cache files', () => {
  it('come back whole or not at all: one bit flipped anywhere, another magic, a cut file are refused', () => {
    const dir = cacheDir();
    const saved = process.env.HVCI_CACHE_DIR;
    process.env.HVCI_CACHE_DIR = dir;
    try {
      const rand = prng(5);
      const body = Buffer.from(Array.from({ length: 10000 }, () => Math.floor(rand() * 256)));
      const file = writeCache('t.bin', dir, 'TESTMAGC', body)!;
      expect(file).toBe(join(dir, 't.bin'));
      expect(readCache('t.bin', dir, 'TESTMAGC')!.equals(body)).toBe(true);
      expect(readCache('t.bin', dir, 'OTHERMAG')).toBeUndefined();
      const good = readFileSync(file);
      for (const at of [9, 13, 16, 5000, good.length - 1]) {
        const bad = Buffer.from(good);
        bad[at] = bad[at]! ^ 0x10;
        writeFileSync(file, bad);
        expect(readCache('t.bin', dir, 'TESTMAGC'), `byte ${at}`).toBeUndefined();
      }
      writeFileSync(file, good.subarray(0, good.length - 1));
      expect(readCache('t.bin', dir, 'TESTMAGC')).toBeUndefined();
      expect(readdirSync(dir)).toEqual(['t.bin']); // no .tmp left behind
    } finally {
      if (saved === undefined) delete process.env.HVCI_CACHE_DIR;
      else process.env.HVCI_CACHE_DIR = saved;
    }
  });
});

describe('writeAtomically', () => {
  it('leaves no temporary file when the rename fails, and throws', () => {
    const dir = cacheDir();
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'x'), 'a directory is in the way');
    expect(() => writeAtomically(join(dir, 'taken'), 'data')).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    writeAtomically(join(dir, 'file'), 'data');
    expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('data');
    expect(readdirSync(dir).sort()).toEqual(['file', 'taken']);
  });
});

describe('privateDir', () => {
  it('makes a directory only this user may enter, and refuses one that others may write to', () => {
    const prefix = `hvci-test-private-${process.pid}`;
    const dir = privateDir(prefix)!;
    dirs.push(dir);
    expect(dir).toBeDefined();
    if (process.platform === 'win32') return;
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(privateDir(prefix)).toBe(dir);
    // Readable by others (an older hvci-build made it so): closed, and used.
    chmodSync(dir, 0o755);
    expect(privateDir(prefix)).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // Writable by others: refused.
    chmodSync(dir, 0o777);
    expect(privateDir(prefix)).toBeUndefined();
    chmodSync(dir, 0o700);
    // A symbolic link planted in its place is refused too.
    const planted = `hvci-test-planted-${process.pid}`;
    const target = tempDir('planted-target');
    dirs.push(target);
    chmodSync(target, 0o700);
    const link = join(tmpdir(), process.getuid ? `${planted}-${process.getuid()}` : planted);
    symlinkSync(target, link);
    dirs.push(link);
    expect(privateDir(planted)).toBeUndefined();
  });
});

describe('the code cache of the CLI bundles', () => {
  it('is written by the first run of a command, one per profile, and read (not rewritten) by the next', async () => {
    const dir = cacheDir();
    const env = { HVCI_CACHE_DIR: dir };
    const first = await runCli(['check', '--format', 'json', driver], { env });
    expect(first.exitCode, first.stderr).toBe(1);
    expect(caches(dir)).toEqual([expect.stringMatching(/^check-main-check-[0-9a-z-]+-node[\d.]+-\w+\.v8cache$/)]);
    const file = join(dir, caches(dir)[0]!);
    const before = statSync(file).mtimeMs;
    const again = await runCli(['check', '--format', 'json', driver], { env });
    expect(again.stdout).toBe(first.stdout);
    expect(statSync(file).mtimeMs).toBe(before);
    // Without call sites, and another command: caches of their own.
    await runCli(['check', '--no-callsites', driver], { env });
    await runCli(['rules'], { env });
    // profile, a hash of the bundle's path, then its size, times and inode, and Node's version
    expect(caches(dir).map((f) => f.replace(/(-[0-9a-z]+){5}-node.*/, '')).sort()).toEqual([
      'check-main-check',
      'check-main-check-headers',
      'check-main-rules',
    ]);
  });

  /** Damages the cache a first check wrote, then checks again: no crash, the same result, a new cache. */
  async function damaged(damage: (bytes: Buffer) => void): Promise<void> {
    const dir = cacheDir();
    const env = { HVCI_CACHE_DIR: dir };
    const first = await runCli(['check', '--format', 'json', driver], { env });
    const file = join(dir, caches(dir)[0]!);
    const bad = readFileSync(file);
    damage(bad);
    writeFileSync(file, bad);
    const again = await runCli(['check', '--format', 'json', driver], { env });
    expect(again.exitCode, again.stderr).toBe(1);
    expect(again.stdout).toBe(first.stdout);
    expect(readFileSync(file).equals(bad)).toBe(false);
  }

  it('a damaged cache is refused and replaced; the result is the same', async () => {
    const rand = prng(3);
    await damaged((b) => {
      for (let i = 0; i < b.length; i += 1 + Math.floor(rand() * 256)) b[i] = Math.floor(rand() * 256);
    });
  });

  it('damage V8 would not notice (its data past the header) is caught by the checksum, not by a crash', async () => {
    await damaged((b) => {
      for (let i = 256; i < b.length; i += 997) b[i] = b[i]! ^ 0x5a;
    });
  });

  it('the cache of an older build of the bundle is removed when the new one is written; other profiles stay', async () => {
    const dir = cacheDir();
    const env = { HVCI_CACHE_DIR: dir };
    const bundle = shortHash(fileURLToPath(new URL('../dist/bundle/check-main.cjs', import.meta.url)));
    const older = `check-main-check-${bundle}-1a-2b-3c-4d-node20.0.0-x64.v8cache`;
    const other = `check-main-check-headers-${bundle}-1a-2b-3c-4d-node20.0.0-x64.v8cache`;
    const otherCheckout = 'check-main-check-zzzz-1a-2b-3c-4d-node20.0.0-x64.v8cache';
    writeFileSync(join(dir, otherCheckout), 'another checkout of hvci-build');
    writeFileSync(join(dir, older), 'stale');
    writeFileSync(join(dir, other), 'another profile');
    await runCli(['check', driver], { env });
    const now = caches(dir);
    expect(now).not.toContain(older);
    expect(now).toContain(other);
    expect(now).toContain(otherCheckout);
    expect(now.filter((f) => f.startsWith(`check-main-check-${bundle}-`))).toHaveLength(1);
  });

  it('a cache directory others can write to is neither read nor written', async () => {
    // What another user could plant: a code cache of the right name and a right CRC over
    // bad data, which V8 would abort on.
    const good = cacheDir();
    await runCli(['check', driver], { env: { HVCI_CACHE_DIR: good } });
    const name = caches(good)[0]!;
    const planted = readFileSync(join(good, name));
    for (let i = 256; i < planted.length; i += 997) planted[i] = planted[i]! ^ 0x5a;
    planted.writeUInt32LE(crc32(planted.subarray(16)), 12);
    const open = cacheDir();
    chmodSync(open, 0o777);
    writeFileSync(join(open, name), planted);
    const r = await runCli(['check', '--format', 'json', driver], { env: { HVCI_CACHE_DIR: open } });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(readdirSync(open)).toEqual([name]);
    // The same file in a directory of the user's own is read: that is what the check prevents.
    chmodSync(open, 0o700);
    expect((await runCli(['check', driver], { env: { HVCI_CACHE_DIR: open } })).exitCode).not.toBe(1);
  });

  it('HVCI_NO_CODE_CACHE=1 writes nothing', async () => {
    const dir = cacheDir();
    const r = await runCli(['check', '--format', 'json', driver], { env: { HVCI_CACHE_DIR: dir, HVCI_NO_CODE_CACHE: '1' } });
    expect(r.exitCode).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('dynamic imports work from the cached bundle: an ES module config and a glob', async () => {
    const dir = cacheDir();
    const project = tempDir('mjs-config');
    dirs.push(project);
    writeFileSync(join(project, 'hvci.config.mjs'), 'export default { rules: { "exec-pool-type": "off", "unknown-pool-type": "off" } };');
    writeFileSync(join(project, 'a.sys'), readFileSync(driver));
    for (let run = 0; run < 2; run++) {
      const r = await runCli(['check', '--format', 'json', '**/*.sys'], { cwd: project, env: { HVCI_CACHE_DIR: dir } });
      expect(r.exitCode, r.stderr).toBe(0);
      const rules: string[] = JSON.parse(r.stdout).files[0].findings.map((f: { rule: string }) => f.rule);
      expect(rules).not.toContain('exec-pool-type');
      expect(rules).toContain('affected-ddi-import');
    }
  });
});
