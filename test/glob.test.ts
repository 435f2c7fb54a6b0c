import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globFiles, toRegExp } from '../src/files/glob.js';
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
