import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/toolchain.js';

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

  it('names what is missing and how to install it', async () => {
    const r = await runCli(['doctor'], { env: { PATH: '/nonexistent' } });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/clang-cl +missing/);
    expect(r.stdout).toMatch(/apt-get install -y clang-19 lld-19 llvm-19/);
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
