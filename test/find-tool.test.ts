import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/toolchain.js';
import { findTool, requireTool } from '../src/toolchain/find-tool.js';

describe.skipIf(process.platform === 'win32')('findTool', () => {
  const root = tempDir('find-tool');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const dir = (name: string, files: Record<string, boolean>): string => {
    const d = join(root, name);
    mkdirSync(d);
    for (const [f, exec] of Object.entries(files)) {
      writeFileSync(join(d, f), '#!/bin/sh\n');
      chmodSync(join(d, f), exec ? 0o755 : 0o644);
    }
    return d;
  };
  const a = dir('a', { 'clang-cl-9': true, 'clang-cl-18': true, 'lld-link-20': false, 'llvm-lib-x': true });
  const b = dir('b', { 'clang-cl-19': true, 'lld-link-19': true, 'llvm-readobj': true });
  const c = dir('c', { 'llvm-readobj-19': true });
  const env = { PATH: [a, join(root, 'missing'), b, c].join(delimiter) };

  it('takes the highest versioned name over all PATH directories (numerically)', () => {
    expect(findTool('clang-cl', env)).toBe(join(b, 'clang-cl-19'));
  });
  it('skips files that are not executable', () => {
    expect(findTool('lld-link', env)).toBe(join(b, 'lld-link-19'));
  });
  it('prefers a plain name of unknown LLVM version (a custom build) to versioned ones', () => {
    expect(findTool('llvm-readobj', env)).toBe(join(b, 'llvm-readobj'));
  });
  it('takes a newer versioned name over a plain name that is an older LLVM', () => {
    const llvm14 = join(root, 'usr', 'lib', 'llvm-14', 'bin');
    mkdirSync(llvm14, { recursive: true });
    writeFileSync(join(llvm14, 'llvm-lib'), '#!/bin/sh\n');
    chmodSync(join(llvm14, 'llvm-lib'), 0o755);
    const d = join(root, 'bin14');
    mkdirSync(d);
    symlinkSync(join(llvm14, 'llvm-lib'), join(d, 'llvm-lib'));
    const e = dir('e', { 'llvm-lib-19': true });
    expect(findTool('llvm-lib', { PATH: [d, e].join(delimiter) })).toBe(join(e, 'llvm-lib-19'));
    // With no newer version the old one still serves.
    expect(findTool('llvm-lib', { PATH: d })).toBe(join(d, 'llvm-lib'));
  });
  it('prefers the environment override', () => {
    expect(findTool('llvm-readobj', { ...env, HVCI_LLVM_READOBJ: '/opt/x/llvm-readobj' })).toBe('/opt/x/llvm-readobj');
  });
  it('returns undefined, or requireTool throws with the install command', () => {
    expect(findTool('llvm-lib', env)).toBeUndefined();
    expect(() => requireTool('llvm-lib', env)).toThrow(/HVCI_LLVM_LIB.*apt-get install -y clang-19 lld-19 llvm-19/);
  });
});
