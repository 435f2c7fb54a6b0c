import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { BIN, runCli } from './helpers/cli.js';
import { copyExample } from './helpers/examples.js';


describe('CMake + Ninja through the launcher variables', () => {
  it('configures, builds a checked driver, and rebuilds nothing the second time', async () => {
    const dir = copyExample('cmake-ninja');
    const env = { ...process.env, HVCI_BUILD: BIN };
    const configure = await execa('cmake', ['-G', 'Ninja', '-B', 'out', '-DCMAKE_TOOLCHAIN_FILE=../../templates/driver/cmake/clang-cl-windows.cmake'], { cwd: dir, env, reject: false });
    expect(configure.exitCode, String(configure.stderr)).toBe(0);
    const build = await execa('cmake', ['--build', 'out', '-v'], { cwd: dir, env, reject: false });
    expect(build.exitCode, String(build.stdout) + String(build.stderr)).toBe(0);
    // Both the compile and the link went through hvci-build.
    expect(String(build.stdout)).toMatch(/hvci-build\.c?js launch \S*clang-cl/);
    expect(String(build.stdout)).toMatch(/hvci-build\.c?js launch \S*lld-link/);
    const driver = join(dir, 'out', 'cmake_driver.sys');
    expect(checkImage(driver).findings.filter((f) => f.severity !== 'note')).toEqual([]);
    const again = await execa('cmake', ['--build', 'out'], { cwd: dir, env });
    expect(String(again.stdout)).toMatch(/no work to do/);
  });
});

describe('a Makefile project under hvci-build run', () => {
  it('builds a clean driver with the shims in front of clang-cl and lld-link', async () => {
    const dir = copyExample('makefile');
    const r = await runCli(['run', '--', 'make'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(checkImage(join(dir, 'build', 'driver.sys')).findings.filter((f) => f.severity !== 'note')).toEqual([]);
  });

  it('builds into its own build directory after the quick start built hello-wdm next to it', async () => {
    const dir = copyExample('makefile');
    const hello = join(dir, '..', 'hello-wdm');
    const quick = await runCli(['build'], { cwd: hello });
    expect(quick.exitCode, quick.stderr).toBe(0);
    expect(existsSync(join(hello, 'build'))).toBe(true);
    const r = await runCli(['run', '--', 'make'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(checkImage(join(dir, 'build', 'driver.sys')).findings.filter((f) => f.severity !== 'note')).toEqual([]);
  });

  it('a rejected driver is not left for make to take as up to date: the second run links and fails again', async () => {
    const dir = copyExample('makefile');
    const first = await runCli(['run', '--', 'make', 'BAD=1'], { cwd: dir });
    expect(first.exitCode).not.toBe(0);
    expect(first.stderr).toMatch(/error straddling-reloc/);
    expect(first.stderr).toMatch(/driver\.sys fails memory integrity checks; moved to build\/driver\.sys\.rejected/);
    expect(existsSync(join(dir, 'build', 'driver.sys'))).toBe(false);
    const second = await runCli(['run', '--', 'make', 'BAD=1'], { cwd: dir });
    expect(second.exitCode).not.toBe(0);
    expect(second.stdout).toMatch(/lld-link .*\/out:build\/driver\.sys/);
    expect(second.stderr).toMatch(/fails memory integrity checks/);
  });

  it('run without a command is a usage error', async () => {
    const r = await runCli(['run']);
    expect(r.exitCode).toBe(2);
  });
});
