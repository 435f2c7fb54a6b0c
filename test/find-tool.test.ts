import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/toolchain.js';
import { clangClArgs, findTool, llvmInstallDirs, requireTool } from '../src/toolchain/find-tool.js';
import { detectHost, installCommand, missingToolMessage } from '../src/toolchain/install-hint.js';

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
  it('returns undefined, or requireTool throws with the install command for this host', () => {
    expect(findTool('llvm-lib', env, [])).toBeUndefined();
    expect(() => requireTool('llvm-lib', { ...env, HVCI_LLVM_DIRS: '' })).toThrow(missingToolMessage('llvm-lib'));
  });
  it('looks in the LLVM install directories (Homebrew\'s keg-only prefix) after PATH', () => {
    const keg = dir('opt-llvm-bin', { 'clang-cl': true, 'lld-link': true });
    expect(findTool('lld-link', { PATH: c }, [keg])).toBe(join(keg, 'lld-link'));
    // PATH first: the user's choice wins over an install directory.
    expect(findTool('clang-cl', env, [keg])).toBe(join(b, 'clang-cl-19'));
  });
  it('takes clang or clang-N for clang-cl when no clang-cl exists, with --driver-mode=cl', () => {
    const d = dir('clang-only', { 'clang-18': true, 'clang-19': true, 'clang-cpp-20': true, 'clang-format-21': true });
    const found = findTool('clang-cl', { PATH: d }, []);
    expect(found).toBe(join(d, 'clang-19'));
    expect(clangClArgs(found!)).toEqual(['--driver-mode=cl']);
    expect(clangClArgs(join(b, 'clang-cl-19'))).toEqual([]);
    expect(clangClArgs('C:\\LLVM\\bin\\clang.exe')).toEqual(['--driver-mode=cl']);
    // A real clang-cl anywhere comes first, even in an install directory.
    const keg = dir('keg-with-clang-cl', { 'clang-cl': true });
    expect(findTool('clang-cl', { PATH: d }, [keg])).toBe(join(keg, 'clang-cl'));
  });
});

describe('LLVM install directories', () => {
  it('HVCI_LLVM_DIRS replaces the built-in list; empty means none', () => {
    expect(llvmInstallDirs({ HVCI_LLVM_DIRS: ['/x/bin', '', '/y/bin'].join(delimiter) }, 'linux')).toEqual(['/x/bin', '/y/bin']);
    expect(llvmInstallDirs({ HVCI_LLVM_DIRS: '' }, 'darwin')).toEqual([]);
  });
  it('on Windows, the LLVM installer\'s directory under Program Files', () => {
    expect(llvmInstallDirs({ ProgramFiles: 'D:\\Programs' }, 'win32')).toEqual(['D:\\Programs\\LLVM\\bin', 'C:\\Program Files\\LLVM\\bin']);
    expect(llvmInstallDirs({}, 'win32')).toEqual(['C:\\Program Files\\LLVM\\bin']);
  });
  it.skipIf(!existsSync('/usr/lib/llvm-19/bin/clang'))('on Debian, /usr/lib/llvm-N/bin, newest first', () => {
    const dirs = llvmInstallDirs({}, 'linux');
    expect(dirs).toContain('/usr/lib/llvm-19/bin');
    const versions = dirs.map((d) => /^\/usr\/lib\/llvm-(\d+)\/bin$/.exec(d)?.[1]).filter((v) => v !== undefined).map(Number);
    expect(versions).toEqual([...versions].sort((x, y) => y - x));
  });
});

describe('install hints', () => {
  const root = tempDir('os-release');
  const host = (text: string): string => {
    const f = join(root, `os-release-${Math.random().toString(36).slice(2)}`);
    writeFileSync(f, text);
    return detectHost('linux', f);
  };
  it('tell the host from /etc/os-release (ID, then ID_LIKE) and the platform', () => {
    expect(host('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')).toBe('debian');
    expect(host('ID=ubuntu\nID_LIKE=debian\n')).toBe('debian');
    expect(host('ID=linuxmint\nID_LIKE="ubuntu debian"\n')).toBe('debian');
    expect(host('ID="rocky"\nID_LIKE="rhel centos fedora"\n')).toBe('fedora');
    expect(host('ID=fedora\n')).toBe('fedora');
    expect(host('ID=endeavouros\nID_LIKE=arch\n')).toBe('arch');
    expect(host('ID=alpine\n')).toBe('other');
    expect(detectHost('linux', join(root, 'absent'))).toBe('other');
    expect(detectHost('darwin')).toBe('homebrew');
    expect(detectHost('win32')).toBe('windows');
  });
  it('name the package of each missing tool, once, on each host', () => {
    expect(installCommand(['clang-cl', 'lld-link', 'llvm-lib', 'llvm-dlltool'], 'debian')).toBe('sudo apt-get install -y clang-tools-19 lld-19 llvm-19');
    expect(installCommand(['clang-cl', 'lld-link', 'llvm-lib'], 'fedora')).toBe('sudo dnf install -y clang lld llvm');
    expect(installCommand(['clang-cl', 'lld-link', 'llvm-lib'], 'arch')).toBe('sudo pacman -S --needed clang lld llvm');
    expect(installCommand(['clang-cl', 'lld-link', 'llvm-dlltool'], 'homebrew')).toBe('brew install llvm lld');
    expect(installCommand(['lld-link'], 'homebrew')).toBe('brew install lld');
    expect(installCommand(['clang-cl'], 'windows')).toMatch(/^winget install LLVM\.LLVM \(or choco install llvm/);
  });
  it('never send someone with clang-19 back to clang-19: clang-cl-19 is in clang-tools-19', () => {
    const m = missingToolMessage('clang-cl', 'debian');
    expect(m).toMatch(/install: sudo apt-get install -y clang-tools-19;/);
    expect(m).not.toMatch(/clang-19/);
    expect(m).toMatch(/HVCI_CLANG_CL/);
    expect(missingToolMessage('lld-link', 'debian')).toMatch(/install: sudo apt-get install -y lld-19;/);
  });
});
