import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { compileFixture, DRIVER_FLAGS, importLib, tempDir } from './helpers/toolchain.js';

/**
 * A full disk, for real: a 64 KiB tmpfs filled to the last byte (mounting needs root, as
 * this suite runs here; elsewhere these tests are skipped). /dev/full stands for a report
 * path that cannot take a byte, without root.
 */
let dir: string;
let clean: string;
let lib: string;
let full: string | undefined;

const ROOT = process.platform === 'linux' && process.getuid?.() === 0;

function mountFull(): string | undefined {
  if (!ROOT) return undefined;
  const mnt = tempDir('full');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    return undefined; // no mount here (a container without the capability)
  }
  return mnt;
}

/** Fills the file system at `mnt`: the write stops with ENOSPC when nothing is left. */
function fill(mnt: string): void {
  try {
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(1 << 20));
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
}

beforeAll(async () => {
  dir = tempDir('disk');
  [clean, lib] = await Promise.all([compileFixture('clean.c', dir), importLib(dir)]);
  full = mountFull();
  if (full) {
    // A report from an earlier run, there before the disk filled up.
    mkdirSync(join(full, 'reports'));
    writeFileSync(join(full, 'reports', 'hvci.sarif'), '{"old": true}');
    mkdirSync(join(full, 'tmp'));
    fill(full);
  }
});

afterAll(() => {
  if (full) execFileSync('umount', [full]);
});

const link = (extra: string[], out: string, env: Record<string, string> = {}) =>
  runCli(['link', ...extra, ...DRIVER_FLAGS, clean, lib, `/out:${out}`], { cwd: dir, env });

describe('a full disk', () => {
  it.skipIf(process.platform !== 'linux')('a report to /dev/full: exit 2, one line naming it, and /dev/full still a device', async () => {
    const r = await link(['--format', 'sarif', '--report', '/dev/full'], join(dir, 'devfull.sys'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['hvci-build: cannot write /dev/full: no space left on device (ENOSPC)']);
    // Not renamed over (as root, a temporary file in /dev could have been).
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
  });

  it.skipIf(!ROOT)('a report on a full file system: exit 2, one line, and no report at all, not even the old one', async () => {
    if (!full) return expect.fail('could not mount a tmpfs as root');
    const report = join(full, 'reports', 'hvci.sarif');
    const r = await link(['--format', 'sarif', '--report', report], join(dir, 'full-report.sys'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`hvci-build: cannot write ${report}: no space left on device (ENOSPC)`]);
    expect(readdirSync(join(full, 'reports'))).toEqual([]);
  });

  it.skipIf(!ROOT)('a full temporary directory for the response file: exit 2, one line, no hvci-link-* left', async () => {
    if (!full) return expect.fail('could not mount a tmpfs as root');
    const tmp = join(full, 'tmp');
    // Over 100,000 characters: the wrapper writes a response file in the temporary directory.
    const filler = Array.from({ length: 9000 }, () => '/ignore:4099');
    const out = join(dir, 'full-tmp.sys');
    const r = await runCli(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`, ...filler], { cwd: dir, env: { TMPDIR: tmp } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^hvci-build: cannot write ${tmp}/hvci-link-\\w+/link\\.rsp: no space left on device \\(ENOSPC\\)`));
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
