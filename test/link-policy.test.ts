/**
 * The link policy against what lld-link 19 really does with chained merges,
 * .drectve flags and /SECTION on the section holding the IAT: each refused
 * case is also linked with the bare lld-link to show the image it would make.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { applyLinkPolicy } from '../src/link/policy.js';
import { requireTool } from '../src/toolchain/find-tool.js';
import { runCli } from './helpers/cli.js';
import { prng } from './helpers/image-edit.js';
import { compileFixture, compileSnippet, DRIVER_FLAGS, importLib, tempDir } from './helpers/toolchain.js';

let dir: string;
let clean: string;
let lib: string;
let asm: string;
const pragma: Record<string, string> = {};

beforeAll(async () => {
  dir = tempDir('policy');
  const snippet = (name: string, directive: string) => compileSnippet(name, `#pragma comment(linker, "${directive}")\nint ${name}_marker;\n`, dir);
  [clean, lib, asm, pragma.merge!, pragma.chain!, pragma.toFoo!, pragma.rdataRe!, pragma.dataRwe!, pragma.harmless!] = await Promise.all([
    compileFixture('clean.c', dir),
    importLib(dir),
    // Code in a section of its own name, .asm, which sorts before .rdata.
    compileSnippet('asm', '#pragma code_seg(".asm")\nint __stdcall AsmHelper(int x) { return x * 3; }\n#pragma code_seg()\n', dir),
    snippet('merge', '/merge:.rdata=.text'),
    snippet('chain', '/merge:.rdata=.foo /merge:.foo=.text'),
    snippet('to_foo', '/merge:.rdata=.foo'),
    snippet('rdata_re', '/section:.rdata,re'),
    snippet('data_rwe', '/section:.data,rwe'),
    snippet('harmless', '/merge:.edata=.rdata'),
  ]);
});

const link = (flags: string[], out: string) => runCli(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`, ...flags], { cwd: dir });

/** What the bare lld-link makes of the same command line, as hvci-build check sees it. */
async function bareFindings(flags: string[], name: string): Promise<string[]> {
  const out = join(dir, `${name}-bare.sys`);
  await execa(requireTool('lld-link'), [...DRIVER_FLAGS, clean, lib, `/out:${out}`, '/align:0x1000', ...flags], { cwd: dir });
  return checkImage(out).findings.filter((f) => f.severity === 'error').map((f) => f.rule);
}

describe('refused before the link: the message names the flag (and the object) and the rule', () => {
  const cases: [string, () => string[], RegExp, string][] = [
    [
      'a chained merge: /merge:.rdata=.foo /merge:.foo=.text',
      () => ['/merge:.rdata=.foo', '/merge:.foo=.text'],
      /error: \/merge:\.rdata=\.foo: merging \.rdata into \.text \(through \.foo\) .*IAT in executable memory \(rule iat-in-exec\)/,
      'iat-in-exec',
    ],
    [
      'a longer chain: .rdata -> .a -> .b -> .text',
      () => ['/merge:.b=.text', '/merge:.rdata=.a', '/merge:.a=.b'],
      /\/merge:\.rdata=\.a: merging \.rdata into \.text \(through \.a, \.b\) .*\(rule iat-in-exec\)/,
      'iat-in-exec',
    ],
    [
      'a merge into a name the code was renamed to (/merge:.asm=.foo /merge:.rdata=.foo)',
      () => [asm, '/include:AsmHelper', '/merge:.asm=.foo', '/merge:.rdata=.foo'],
      /\/merge:\.rdata=\.foo: merging \.rdata into \.foo mixes data and code.*\(rule iat-in-exec\)/,
      'iat-in-exec',
    ],
    ['the same flag twice: one line', () => ['/merge:.rdata=.text', '/merge:.rdata=.text'], /\/merge:\.rdata=\.text: merging \.rdata into \.text/, 'iat-in-exec'],
    ['/section:.rdata,re', () => ['/section:.rdata,re'], /\/section:\.rdata,re makes section \.rdata, which holds the IAT, executable \(rule iat-in-exec\)/, 'iat-in-exec'],
    ['/SECTION:.rdata,E (link.exe keeps R)', () => ['/SECTION:.rdata,E'], /\/SECTION:\.rdata,E makes section \.rdata, which holds the IAT, executable/, 'iat-in-exec'],
    [
      '/section on the name .rdata was merged into',
      () => ['/merge:.rdata=.foo', '/section:.foo,re'],
      /\/section:\.foo,re makes section \.foo, which holds the IAT, executable \(rule iat-in-exec\)/,
      'iat-in-exec',
    ],
    [
      '/section:.idata,re when .idata is kept apart (/merge:.idata=.idata overrides lld-link\'s .idata=.rdata)',
      () => ['/merge:.idata=.idata', '/section:.idata,re'],
      /\/section:\.idata,re makes section \.idata, which holds the IAT, executable \(rule iat-in-exec\)/,
      'iat-in-exec',
    ],
    [
      '#pragma comment(linker, "/merge:.rdata=.text")',
      () => [pragma.merge!],
      /error: \/merge:\.rdata=\.text in the \.drectve section of .*merge\.obj: merging \.rdata into \.text .*\(rule iat-in-exec\)/,
      'iat-in-exec',
    ],
    [
      'a chained merge in a .drectve',
      () => [pragma.chain!],
      /\/merge:\.rdata=\.foo in the \.drectve section of .*chain\.obj: merging \.rdata into \.text \(through \.foo\)/,
      'iat-in-exec',
    ],
    [
      '#pragma comment(linker, "/section:.rdata,re")',
      () => [pragma.rdataRe!],
      /\/section:\.rdata,re in the \.drectve section of .*rdata_re\.obj makes section \.rdata, which holds the IAT, executable \(rule iat-in-exec\)/,
      'iat-in-exec',
    ],
    [
      '#pragma comment(linker, "/section:.data,rwe")',
      () => [pragma.dataRwe!],
      /\/section:\.data,rwe in the \.drectve section of .*data_rwe\.obj makes section \.data writable and executable \(rule wx-section\)/,
      'wx-section',
    ],
    [
      'a .drectve merge chained to a command-line one',
      () => ['/merge:.foo=.text', pragma.toFoo!],
      /\/merge:\.rdata=\.foo in the \.drectve section of .*to_foo\.obj: merging \.rdata into \.text \(through \.foo\)/,
      'iat-in-exec',
    ],
  ];
  cases.forEach(([name, flags, pattern, rule], i) => {
    it(name, async () => {
      const out = join(dir, `refused${i}.sys`);
      const r = await link(flags(), out);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.split('\n').filter((l) => / error: /.test(l))).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
      // The bare linker accepts it and makes the image the refusal prevents.
      expect(await bareFindings(flags(), `refused${i}`)).toContain(rule);
    });
  });

  it('a merge cycle is refused once, as lld-link would fail it', async () => {
    const flags = ['/merge:.rdata=.foo', '/merge:.foo=.rdata'];
    const r = await link(flags, join(dir, 'cycle.sys'));
    expect(r.exitCode).toBe(2);
    expect(r.stderr.match(/the \/merge rules loop \((\.foo|\.rdata) -> (\.rdata|\.foo) -> \1\), which lld-link rejects/g)).toHaveLength(1);
    const bare = await execa(requireTool('lld-link'), [...DRIVER_FLAGS, clean, lib, `/out:${join(dir, 'cycle-bare.sys')}`, ...flags], { cwd: dir, reject: false });
    expect(bare.exitCode).not.toBe(0);
    expect(bare.stderr).toMatch(/cycle found/);
  });
});

describe('let through: the IAT stays out of code', () => {
  const cases: [string, () => string[]][] = [
    // lld-link merges .idata into .rdata: /section:.idata changes no section of the image.
    ['/section:.idata,re while .idata is merged into .rdata', () => ['/section:.idata,re']],
    ['a data-to-data chain: /merge:.rdata=.foo /merge:.foo=.data', () => ['/merge:.rdata=.foo', '/merge:.foo=.data']],
    ['a harmless .drectve merge (/merge:.edata=.rdata)', () => [pragma.harmless!]],
    ['/section:.rdata,r', () => ['/section:.rdata,r']],
  ];
  cases.forEach(([name, flags], i) => {
    it(name, async () => {
      const out = join(dir, `allowed${i}.sys`);
      const r = await link(flags(), out);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(checkImage(out).findings.filter((f) => f.severity === 'error')).toEqual([]);
    });
  });
});

describe('random /merge and /section lines: whatever the policy lets through links into an image without these errors', () => {
  it('80 command lines', async () => {
    const rand = prng(0x9e3779b9);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    const names = ['.rdata', '.text', '.data', '.foo', '.bar', '.asm', '.idata', '.xdata', '.pdata', 'PAGE', '.edata', '.bss'];
    const lines = Array.from({ length: 80 }, () => {
      const flags = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => `/merge:${pick(names)}=${pick(names)}`);
      if (rand() < 0.4) flags.push(`/section:${pick(names)},${pick(['r', 're', 'rw', 'rwe', 'e', 'w'])}`);
      return flags;
    });
    const base = [...DRIVER_FLAGS, clean, asm, '/include:AsmHelper', lib];
    let linked = 0;
    await Promise.all(
      lines.map(async (flags, i) => {
        const out = join(dir, `random${i}.sys`);
        const policy = applyLinkPolicy([...base, `/out:${out}`, ...flags], dir, { allowMerges: [], allowSections: [] });
        if (policy.refusals.length > 0) return;
        const r = await execa(requireTool('lld-link'), policy.args, { cwd: dir, reject: false });
        if (r.exitCode !== 0) return; // lld-link refused it (a merge of .reloc, a loop it found): no image
        linked++;
        const errors = checkImage(out).findings.filter((f) => f.severity === 'error').map((f) => f.rule);
        expect({ flags, errors: errors.filter((e) => ['iat-in-exec', 'wx-section', 'writable-code'].includes(e)) }).toEqual({ flags, errors: [] });
      }),
    );
    // Both paths are exercised.
    expect(linked).toBeGreaterThan(10);
    expect(linked).toBeLessThan(80);
  });
});
