import { describe, expect, it } from 'vitest';
import { isBatchCommand, pathKey, shimFor, wrappedToolName } from '../src/toolchain/shims.js';

// The Windows forms on any host; test/windows/ runs the .cmd shims through cmd under wine.
describe('hvci-build run shims', () => {
  const command = { node: 'C:\\Program Files\\nodejs\\node.exe', bin: 'C:\\p\\100%\\hvci-build.cjs', real: 'C:\\Program Files\\LLVM\\bin\\clang-cl.exe' };

  it('are .cmd files on Windows, with % doubled inside the quotes, and sh scripts elsewhere', () => {
    const win = shimFor('clang-cl', 'cc', command, 'win32');
    expect(win.name).toBe('clang-cl.cmd');
    expect(win.executable).toBe(false);
    expect(win.text).toBe('@"C:\\Program Files\\nodejs\\node.exe" "C:\\p\\100%%\\hvci-build.cjs" launch --kind=cc "C:\\Program Files\\LLVM\\bin\\clang-cl.exe" %*\r\n');
    const sh = shimFor('lld-link-19', 'link', { node: '/usr/bin/node', bin: "/it's/hvci-build.cjs", real: '/usr/bin/lld-link-19' }, 'linux');
    expect(sh).toEqual({ name: 'lld-link-19', executable: true, text: `#!/bin/sh\nexec '/usr/bin/node' '/it'\\''s/hvci-build.cjs' launch --kind=link '/usr/bin/lld-link-19' "$@"\n` });
  });

  it('wrap the versioned names on PATH, and on Windows the .exe names', () => {
    expect(wrappedToolName('clang-cl-19', 'linux')).toBe('clang-cl-19');
    expect(wrappedToolName('clang-cl', 'linux')).toBeUndefined();
    expect(wrappedToolName('clang-cl-19.exe', 'linux')).toBeUndefined();
    expect(wrappedToolName('LLD-LINK.EXE', 'win32')).toBe('lld-link');
    expect(wrappedToolName('clang-cl-19.exe', 'win32')).toBe('clang-cl-19');
    expect(wrappedToolName('clang-cl-19', 'win32')).toBeUndefined();
  });

  it('find PATH under the name Windows gives it', () => {
    expect(pathKey({ Path: 'C:\\x', ComSpec: 'cmd' }, 'win32')).toBe('Path');
    expect(pathKey({ PATH: 'C:\\x' }, 'win32')).toBe('PATH');
    expect(pathKey({ Path: '/x' }, 'linux')).toBe('PATH');
  });

  it('tell a batch file, which Node cannot start without cmd, from a program', () => {
    const files = new Set(['C:\\bin\\npm.cmd', 'C:\\tools\\make.exe', 'C:\\tools\\make.bat', 'C:\\later\\ninja.cmd', 'C:\\first\\ninja.exe']);
    const exists = (p: string): boolean => files.has(p);
    expect(isBatchCommand('npm', ['C:\\tools', 'C:\\bin'], exists)).toBe(true);
    expect(isBatchCommand('make', ['C:\\tools', 'C:\\bin'], exists)).toBe(false);
    expect(isBatchCommand('ninja', ['C:\\first', 'C:\\later'], exists)).toBe(false);
    // Node takes an .exe anywhere on PATH before a .cmd, unlike cmd.
    expect(isBatchCommand('ninja', ['C:\\later', 'C:\\first'], exists)).toBe(false);
    expect(isBatchCommand('build.CMD', [], exists)).toBe(true);
    expect(isBatchCommand('cmake', ['C:\\bin'], exists)).toBe(false);
  });
});
