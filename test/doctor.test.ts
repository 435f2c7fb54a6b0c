import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { findTool } from '../src/toolchain/find-tool.js';
import { buildFixture } from './fixtures/build.js';
import { detectHost, installCommand } from '../src/toolchain/install-hint.js';
import { runCli } from './helpers/cli.js';
import { copyExample } from './helpers/examples.js';
import { tempDir } from './helpers/toolchain.js';

/** A PATH directory of symlinks to the named host tools (which /usr/bin and friends resolve), and nothing else. */
function pathOf(tools: string[]): string {
  const bin = join(tempDir('path'), 'bin');
  mkdirSync(bin);
  for (const t of tools) {
    const real = findOnPath(t);
    if (real) symlinkSync(real, join(bin, t));
  }
  return bin;
}

function findOnPath(tool: string): string | undefined {
  return (process.env.PATH ?? '').split(':').map((d) => join(d, tool)).find((p) => existsSync(p));
}

// The built-in install directories (/usr/lib/llvm-N/bin here) would find what a test's PATH leaves out.
const NO_INSTALL_DIRS = { HVCI_LLVM_DIRS: '' };
const debian = detectHost() === 'debian';

describe('hvci-build doctor', () => {
  it('lists the tools it found with their LLVM versions', async () => {
    const r = await runCli(['doctor']);
    expect(r.exitCode).toBe(0);
    for (const tool of ['clang-cl', 'lld-link', 'llvm-lib', 'llvm-dlltool']) {
      expect(r.stdout).toMatch(new RegExp(`^${tool} +\\S+ \\(LLVM \\d+`, 'm'));
    }
    // Debian 12's plain llvm-lib is LLVM 14; the newer versioned one is chosen.
    expect(r.stdout).not.toMatch(/llvm-lib +\S+ \(LLVM 14/);
    expect(r.stdout).toMatch(/^decoder +iced-x86, (from its snapshot|through its own glue)/m);
    const off = await runCli(['doctor'], { env: { HVCI_NO_CODE_CACHE: '1' } });
    expect(off.stdout).toMatch(/^decoder +iced-x86, through its own glue \(caches off/m);
  });

  it('says that check needs no tools', async () => {
    const r = await runCli(['doctor'], { env: { PATH: '/nonexistent', ...NO_INSTALL_DIRS } });
    expect(r.stdout).toMatch(/^tools: hvci-build check needs none/m);
  });

  it('names what is missing and the one command that installs it on this host', async () => {
    const r = await runCli(['doctor'], { env: { PATH: '/nonexistent', ...NO_INSTALL_DIRS } });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/clang-cl +missing/);
    expect(r.stdout).toContain(`install: ${installCommand(['clang-cl', 'lld-link', 'llvm-lib', 'llvm-dlltool'], detectHost())};`);
    if (debian) expect(r.stdout).toMatch(/install: sudo apt-get install -y clang-tools-19 lld-19 llvm-19;/);
  });

  it.skipIf(!existsSync('/usr/lib/llvm-19/bin/lld-link'))('finds the toolchain in /usr/lib/llvm-N/bin when PATH has none of it', async () => {
    const r = await runCli(['doctor'], { env: { PATH: '/nonexistent' } });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^lld-link +\/usr\/lib\/llvm-\d+\/bin\/lld-link \(LLVM \d+/m);
  });
});

describe.skipIf(!findTool('clang-cl') || !findOnPath('clang-19'))('with clang-19 but no clang-cl (Debian\'s clang-19 without clang-tools-19)', () => {
  const tools = ['clang-19', 'lld-link-19', 'llvm-lib-19', 'llvm-dlltool-19'];

  it('doctor takes clang-19 --driver-mode=cl for clang-cl', async () => {
    const r = await runCli(['doctor'], { env: { PATH: pathOf(tools), ...NO_INSTALL_DIRS } });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^clang-cl +\S+\/clang-19 --driver-mode=cl \(LLVM 19\./m);
  });

  it('hvci-build build compiles with it and links a checked driver', async () => {
    const dir = copyExample('hello-wdm');
    const r = await runCli(['build'], { cwd: dir, env: { PATH: pathOf(tools), ...NO_INSTALL_DIRS } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(checkImage(join(dir, 'build', 'hello-wdm.sys')).findings.filter((f) => f.severity !== 'note')).toEqual([]);
  });

  it('hvci-build run shims clang-cl with it for a Makefile that calls clang-cl', async () => {
    const dir = copyExample('makefile');
    const path = pathOf([...tools, 'make', 'sh', 'mkdir']);
    const r = await runCli(['run', '--', 'make'], { cwd: dir, env: { PATH: path, ...NO_INSTALL_DIRS } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(checkImage(join(dir, 'build', 'driver.sys')).findings.filter((f) => f.severity !== 'note')).toEqual([]);
  });

  it('a missing lld-link is one line, exit 2, naming only its package', async () => {
    const r = await runCli(['link', '/out:x.sys', 'x.obj'], { cwd: tempDir('nolld'), env: { PATH: pathOf(['clang-19']), ...NO_INSTALL_DIRS } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^hvci-build: lld-link not found .*install: /);
    if (debian) expect(r.stderr).toMatch(/install: sudo apt-get install -y lld-19;/);
  });
});

describe('with no LLVM at all', () => {
  it('cc says what to install in one line, exit 2, and check still works', async () => {
    const env = { PATH: '/nonexistent', ...NO_INSTALL_DIRS };
    const image = await buildFixture('align-200-x64');
    const checked = await runCli(['check', image], { env });
    expect(checked.exitCode).toBe(1);
    expect(checked.stdout).toMatch(/section-alignment/);
    const r = await runCli(['cc', '/c', 'x.c'], { cwd: tempDir('nollvm'), env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^hvci-build: clang-cl not found \(looked for clang-cl, clang-cl-N, clang and clang-N/);
    if (debian) expect(r.stderr).toMatch(/install: sudo apt-get install -y clang-tools-19;/);
  });
});

describe('hvci-build run shims', () => {
  it('catch versioned names too, and never call themselves', async () => {
    const dir = tempDir('shim');
    // A "build" that calls clang-cl-19 by its versioned name and prints what PATH resolves.
    writeFileSync(join(dir, 'build.sh'), 'command -v clang-cl-19\nclang-cl-19 --version | head -1\n');
    const r = await runCli(['run', '--', 'sh', 'build.sh'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hvci-shims-[^/]+\/clang-cl-19/);
    expect(r.stdout).toMatch(/clang version 19/);
  });
});
