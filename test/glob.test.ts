import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globFiles, toRegExp } from '../src/files/glob.js';
import { discoverFiles } from '../src/files/discover.js';
import { buildFixture } from './fixtures/build.js';
import { tempDir } from './helpers/toolchain.js';

describe('the build glob', () => {
  it('matches what globby would for source lists', () => {
    const dir = tempDir('glob');
    for (const f of ['a.c', 'b.cpp', 'x.h', 'src/c.c', 'src/deep/d.c', 'src/old/e.c', 'node_modules/m.c', '.hidden/h.c']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    const rel = (patterns: string[]) => globFiles(patterns, dir).map((p) => p.slice(dir.length + 1));
    expect(rel(['*.c'])).toEqual(['a.c']);
    expect(rel(['*.{c,cpp}'])).toEqual(['a.c', 'b.cpp']);
    expect(rel(['src/**/*.c'])).toEqual(['src/c.c', 'src/deep/d.c', 'src/old/e.c']);
    expect(rel(['**/*.c', '!src/old/**'])).toEqual(['a.c', 'src/c.c', 'src/deep/d.c']);
    expect(rel(['src/c.c', 'a.c'])).toEqual(['a.c', 'src/c.c']);
    expect(rel(['./src/*.c'])).toEqual(['src/c.c']);
    expect(toRegExp('src/?.c').test('src/c.c')).toBe(true);
    expect(toRegExp('src/?.c').test('src/cc.c')).toBe(false);
    // globby's dialect (picomatch) in full: classes and extglobs, as `check` and `ignore` read them.
    expect(rel(['src/[cd].c'])).toEqual(['src/c.c']);
    expect(rel(['src/**/!(e).c'])).toEqual(['src/c.c', 'src/deep/d.c']);
  });
});

// Windows hosts, on any host: the platform parameter is what process.platform is on Windows
// (test/windows/ runs the same through node.exe under wine).
describe('globs on a Windows host', () => {
  it('take backslashes as separators and ignore case; elsewhere a backslash escapes and case counts', () => {
    expect(toRegExp('drivers\\**\\*.sys', 'win32').test('drivers/x64/Release/a.sys')).toBe(true);
    expect(toRegExp('*.SYS', 'win32').test('driver.sys')).toBe(true);
    expect(toRegExp('*.SYS', 'linux').test('driver.sys')).toBe(false);
    expect(toRegExp('drivers\\**\\*.sys', 'linux').test('drivers/x64/a.sys')).toBe(false);
    expect(toRegExp('a\\*.sys', 'linux').test('a*.sys')).toBe(true);
  });

  it('find source files by backslash and any-case patterns in the build', () => {
    const dir = tempDir('glob-win');
    for (const f of ['src/a.c', 'src/deep/B.C', 'src/old/e.c']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    const rel = (patterns: string[], platform: NodeJS.Platform) => globFiles(patterns, dir, platform).map((p) => p.slice(dir.length + 1));
    expect(rel(['src\\**\\*.c', '!src\\OLD\\**'], 'win32')).toEqual(['src/a.c', 'src/deep/B.C']);
    expect(rel(['src/**/*.c', '!src/OLD/**'], 'linux')).toEqual(['src/a.c', 'src/old/e.c']);
  });

  it('expand backslash globs and ignore backslash and any-case `ignore` patterns when checking', async () => {
    const dir = tempDir('discover-win');
    const image = await buildFixture('clean-x64');
    for (const f of ['drivers/x64/Release/one.sys', 'drivers/x64/Debug/TWO.SYS', 'drivers/Test/three.sys']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      copyFileSync(image, join(dir, f));
    }
    const found = async (inputs: string[], ignore: string[], platform: NodeJS.Platform) =>
      (await discoverFiles(inputs, { cwd: dir, ignore, ignoreBase: dir, platform })).files.map((f) => relative(dir, f.path));
    expect(await found(['drivers\\**\\*.sys'], [], 'win32')).toEqual(['drivers/Test/three.sys', 'drivers/x64/Debug/TWO.SYS', 'drivers/x64/Release/one.sys']);
    expect(await found(['drivers/**/*.sys'], [], 'linux')).toEqual(['drivers/Test/three.sys', 'drivers/x64/Release/one.sys']);
    // One file named in two cases is one file on Windows, two names elsewhere.
    expect(await found(['drivers/x64/Release/one.sys', 'drivers/x64/Release/ONE.sys'], [], 'win32')).toEqual(['drivers/x64/Release/one.sys']);
    expect(await found(['drivers/x64/Release/one.sys', 'drivers/x64/Release/ONE.sys'], [], 'linux')).toEqual(['drivers/x64/Release/one.sys', 'drivers/x64/Release/ONE.sys']);
    // `ignore` from the config, for a glob and for a directory search.
    expect(await found(['drivers\\**\\*.sys'], ['drivers\\test\\**'], 'win32')).toEqual(['drivers/x64/Debug/TWO.SYS', 'drivers/x64/Release/one.sys']);
    expect(await found(['drivers'], ['drivers\\test\\**', '**\\debug\\**'], 'win32')).toEqual(['drivers/x64/Release/one.sys']);
    expect(await found(['drivers'], ['drivers\\test\\**', '**\\debug\\**'], 'linux')).toEqual(['drivers/Test/three.sys', 'drivers/x64/Debug/TWO.SYS', 'drivers/x64/Release/one.sys']);
  });
});
