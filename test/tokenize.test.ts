/**
 * The tokenizers against the real lld-link-19: each response file names input
 * files that do not exist, and lld-link's "could not open '...'" errors show
 * exactly the arguments it read.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { quoteGnu, tokenizeGnu, tokenizeWindows } from '../src/cmdline/tokenize.js';
import { requireTool } from '../src/toolchain/find-tool.js';
import { runCli } from './helpers/cli.js';
import { prng } from './helpers/image-edit.js';
import { compileFixture, DRIVER_FLAGS, importLib, tempDir } from './helpers/toolchain.js';

let dir: string;
let count = 0;

beforeAll(() => {
  dir = tempDir('tokenize');
});

// lld-link's option parser skips empty arguments; the Windows rules keep them, so they are left out here.
const tokenizer = (quoting: 'windows' | 'posix') => (quoting === 'posix' ? tokenizeGnu : tokenizeWindows);

/** The file arguments lld-link-19 read from a response file with this text, in order. */
async function lldReads(text: string, quoting: 'windows' | 'posix'): Promise<string[]> {
  const rsp = join(dir, `case${count++}.rsp`);
  writeFileSync(rsp, text);
  const r = await execa(requireTool('lld-link'), ['/nologo', ...(quoting === 'posix' ? ['--rsp-quoting=posix'] : []), `@${rsp}`], { cwd: dir, reject: false });
  return [...r.stderr.matchAll(/could not open '([\s\S]*?)': No such file or directory/g)].map((m) => m[1]!);
}

describe('GNU rules (--rsp-quoting=posix) read as lld-link-19 reads them', () => {
  const cases: [string, string, string[]][] = [
    ['quotes and escapes', `'a b.obj' "c \\"d\\".obj" e\\ f.obj`, ['a b.obj', 'c "d".obj', 'e f.obj']],
    ['"" alone is dropped', 'a1.obj "" b1.obj', ['a1.obj', 'b1.obj']],
    ['backslash-newline keeps the newline in the argument', 'a2.obj foo\\\nbar.obj', ['a2.obj', 'foo\nbar.obj']],
    ['a trailing backslash is kept', 'a3.obj tail.obj\\', ['a3.obj', 'tail.obj\\']],
  ];
  for (const [name, text, expected] of cases) {
    it(name, async () => {
      const lld = await lldReads(text, 'posix');
      expect(lld).toEqual(expected);
      expect(tokenizeGnu(text)).toEqual(lld);
    });
  }
});

describe('Windows rules (lld-link\'s default) read as lld-link-19 reads them', () => {
  const cases: [string, string, string[]][] = [
    ['quotes group, backslashes are literal unless before a quote', 'x\\y.obj "dir with space\\\\" z.obj', ['x\\y.obj', 'dir with space\\', 'z.obj']],
    ['escaped quote and "" inside quotes', 'a\\"b.obj "c""d.obj"', ['a"b.obj', 'c"d.obj']],
    ['\\\\"" inside quotes: one backslash, then "" is a literal quote', '"foo\\\\""bar.obj" x.obj', ['foo\\"bar.obj', 'x.obj']],
    ['single quotes are ordinary characters', "'x y.obj'", ["'x", "y.obj'"]],
    ['CR LF and tabs separate', 'one.obj\r\ntwo.obj\tthree.obj', ['one.obj', 'two.obj', 'three.obj']],
  ];
  for (const [name, text, expected] of cases) {
    it(name, async () => {
      const lld = await lldReads(text, 'windows');
      expect(lld).toEqual(expected);
      expect(tokenizeWindows(text)).toEqual(lld);
    });
  }

  it('"" is an empty argument, which lld-link then ignores', async () => {
    expect(tokenizeWindows('a4.obj "" b4.obj')).toEqual(['a4.obj', '', 'b4.obj']);
    expect(await lldReads('a4.obj "" b4.obj', 'windows')).toEqual(['a4.obj', 'b4.obj']);
  });
});

describe('random response files read as lld-link-19 reads them', () => {
  // Quotes, backslashes and whitespace in random runs; the old tokenizers missed 31 of 800 such files.
  const pieces = ['a', 'b', 'c', ' ', '\t', '\n', '"', "'", '\\', '""', '\\\\', '\\"'];
  for (const quoting of ['windows', 'posix'] as const) {
    it(quoting, async () => {
      const rand = prng(quoting === 'posix' ? 0x5eed : 0xbeef);
      const texts: string[] = [];
      while (texts.length < 60) {
        let text = 'x';
        for (let i = Math.floor(rand() * 14); i >= 0; i--) text += pieces[Math.floor(rand() * pieces.length)];
        const ours = tokenizer(quoting)(text).filter((t) => t !== '');
        // Only file names: an option or a nested @file would read differently.
        if (ours.length <= 15 && !ours.some((t) => /^[-/@]/.test(t))) texts.push(text);
      }
      const lld = await Promise.all(texts.map((t) => lldReads(t, quoting)));
      const ours = texts.map((t) => tokenizer(quoting)(t).filter((x) => x !== ''));
      expect(ours).toEqual(lld);
    });
  }
});

describe('the wrapper reads "" as lld-link does', () => {
  it('a leading "" is no input: without /out: the image is named after the first object', async () => {
    const sub = tempDir('tokenize-link');
    const obj = await compileFixture('clean.c', sub);
    const lib = await importLib(sub);
    for (const quoting of ['windows', 'posix']) {
      const rsp = join(sub, `${quoting}.rsp`);
      writeFileSync(rsp, `"" ${obj} ${lib}`);
      const r = await runCli(['link', ...DRIVER_FLAGS, ...(quoting === 'posix' ? ['--rsp-quoting=posix'] : []), `@${rsp}`], { cwd: sub });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(existsSync(join(sub, 'clean.sys'))).toBe(true);
    }
  });
});

it('quoteGnu round-trips through tokenizeGnu (empty arguments, which lld-link ignores, drop out)', () => {
  const args = ['/out:a b.sys', 'plain.obj', 'q"uote', "it's", 'back\\slash', '$HOME', 'new\nline', 'end\\'];
  expect(tokenizeGnu(args.map(quoteGnu).join('\n'))).toEqual(args);
  expect(tokenizeGnu(['a', '', 'b'].map(quoteGnu).join('\n'))).toEqual(['a', 'b']);
});
