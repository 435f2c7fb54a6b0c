import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { runCli } from './helpers/cli.js';
import { copyExample } from './helpers/examples.js';

/**
 * examples/meson under `hvci-build run`. Meson before 1.1.0 takes clang-cl 19 for GCC (its
 * `clang-cl /?` text has "xt-", which those versions read as an Xtensa GCC); before 1.12.0
 * its Ninja backend needs <stdio.h> to learn clang-cl's /showIncludes prefix, and there are
 * no C library headers for Windows here (Meson 1.7.0 from bookworm-backports stops there).
 * Debian 12 has 1.0.1: the test is skipped, saying so, unless a Meson of 1.12.0 or later is
 * on PATH or named by HVCI_TEST_MESON (a command, e.g. a wrapper script).
 */
const MESON = process.env.HVCI_TEST_MESON ?? 'meson';
const NEEDED = [1, 12, 0];
const version = await execa(MESON, ['--version'], { reject: false }).then((r) => (r.exitCode === 0 ? String(r.stdout).trim() : undefined), () => undefined);
const recent = version !== undefined && compare(version.split('.').map(Number), NEEDED) >= 0;
if (!recent) {
  process.stderr.write(`meson.test.ts: skipped: ${version === undefined ? `${MESON} is not installed` : `Meson ${version} cannot build the example without Windows headers (see README, Meson)`}; it needs Meson ${NEEDED.join('.')} or later (set HVCI_TEST_MESON to one)\n`);
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < b.length; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) - b[i]!;
  return 0;
}

/** The PE optional header's Subsystem field (1: native, 3: console). */
function subsystem(image: string): number {
  const b = readFileSync(image);
  return b.readUInt16LE(b.readUInt32LE(0x3c) + 4 + 20 + 68);
}

describe.skipIf(!recent)(`Meson (${version ?? 'not installed'}) with the example's cross file`, () => {
  it('sets up and builds a checked native driver under hvci-build run', async () => {
    const dir = copyExample('meson');
    const setup = await runCli(['run', '--', MESON, 'setup', '--cross-file', 'clang-cl-x64.ini', 'out'], { cwd: dir });
    expect(setup.exitCode, setup.stdout + setup.stderr).toBe(0);
    expect(setup.stdout).toMatch(/C compiler for the host machine: clang-cl \(clang-cl 1\d\./);
    const build = await runCli(['run', '--', MESON, 'compile', '-C', 'out', '-v'], { cwd: dir });
    expect(build.exitCode, build.stdout + build.stderr).toBe(0);
    // Meson keeps the bare name it found, the shim's: a later plain ninja needs shims on PATH too (README).
    const ninja = readFileSync(join(dir, 'out', 'build.ninja'), 'utf8');
    expect(ninja).toMatch(/command = clang-cl /);
    const driver = join(dir, 'out', 'meson_driver.sys');
    expect(subsystem(driver)).toBe(1);
    expect(checkImage(driver).findings.filter((f) => f.severity !== 'note')).toEqual([]);
  });
});
