import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { parseHeaders } from '../src/pe/headers.js';
import { bufferSource } from '../src/pe/source.js';
import { requireTool } from '../src/toolchain/find-tool.js';
import { runCli, NODE } from './helpers/cli.js';
import { compileFixture, DRIVER_FLAGS, importLib, tempDir } from './helpers/toolchain.js';

let dir: string;
let clean: string;
let init: string;
let straddle: string;
let lib: string;

const headersOf = (path: string) => parseHeaders(bufferSource(readFileSync(path)));
const section = (path: string, name: string) => headersOf(path).sections.find((s) => s.name === name);

beforeAll(async () => {
  dir = tempDir('link');
  [clean, init, straddle, lib] = await Promise.all([
    compileFixture('clean.c', dir),
    compileFixture('init.c', dir),
    compileFixture('straddle.c', dir),
    importLib(dir),
  ]);
});

const link = (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) =>
  runCli(['link', ...args], { cwd: opts.cwd ?? dir, ...(opts.env ? { env: opts.env } : {}) });

describe('flags injected', () => {
  it('a plain link gets /nxcompat and /align:0x1000 and passes', async () => {
    const out = join(dir, 'plain.sys');
    const r = await link(['--verbose', ...DRIVER_FLAGS, clean, lib, `/out:${out}`]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/injected \/nxcompat/);
    expect(r.stderr).toMatch(/injected \/align:0x1000/);
    const h = headersOf(out);
    expect(h.dllCharacteristics & 0x100).toBe(0x100);
    expect(h.sectionAlignment).toBe(0x1000);
    expect(checkImage(out).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});

describe('refused flags: nothing is linked, the message names the flag and the rule', () => {
  const cases: [string, string[], RegExp][] = [
    ['/NXCOMPAT:NO', ['/NXCOMPAT:NO'], /\/NXCOMPAT:NO turns off NX_COMPAT.*rule nx-compat/],
    ['/align:0x200', ['/align:0x200'], /\/align:0x200: .*multiple of 0x1000 \(rule section-alignment\)/],
    ['/ALIGN:512', ['/ALIGN:512'], /rule section-alignment/],
    ['/merge:.rdata=.text', ['/merge:.rdata=.text'], /merging \.rdata into \.text .*IAT in executable memory \(rule iat-in-exec\)/],
    ['/MERGE:.data=.text', ['/MERGE:.data=.text'], /merging \.data into \.text makes a writable and executable section \(rule wx-section\)/],
    ['-merge:.text=.data', ['-merge:.text=.data'], /rule wx-section/],
    ['/section:.data,rwe', ['/section:.data,rwe'], /makes section \.data writable and executable \(rule wx-section\)/],
    // link.exe keeps the bits not named: .text stays R+X, W is added.
    ['/SECTION:.text,W', ['/SECTION:.text,W'], /makes section \.text writable and executable/],
    ['/section:INIT,ALIGN', ['/section:INIT,d,ALIGN=16'], /ALIGN= in \/SECTION/],
  ];
  for (const [name, flags, pattern] of cases) {
    it(name, async () => {
      const out = join(dir, `refused-${flags.join('').replace(/\W/g, '_')}.sys`);
      const r = await link([...DRIVER_FLAGS, clean, init.replace('init', 'init'), lib, `/out:${out}`, ...flags].filter((a) => a !== init));
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('flags from the LINK and _LINK_ environment variables are policed too', async () => {
    const out = join(dir, 'env.sys');
    const r1 = await link([...DRIVER_FLAGS, clean, lib, `/out:${out}`], { env: { LINK: '/nxcompat:no' } });
    expect(r1.exitCode).toBe(2);
    expect(r1.stderr).toMatch(/nxcompat:no/);
    const r2 = await link([...DRIVER_FLAGS, clean, lib, `/out:${out}`], { env: { _LINK_: '/merge:.rdata=.text' } });
    expect(r2.exitCode).toBe(2);
    // And ordinary ones take effect (LINK's /out: is used when the command line has none).
    const r3 = await link([...DRIVER_FLAGS, clean, lib], { env: { LINK: `"/out:${join(dir, 'from env.sys')}"` } });
    expect(r3.exitCode).toBe(0);
    expect(existsSync(join(dir, 'from env.sys'))).toBe(true);
  });
});

describe('translated flags', () => {
  it("WDK's /MERGE:_TEXT=.text;_PAGE=PAGE is split into one /merge per pair", async () => {
    // An object with code in _TEXT, as old WDK sources have.
    const src = join(dir, 'textseg.c');
    writeFileSync(src, '#pragma code_seg("_TEXT")\nint __stdcall Helper(int x) { return x * 3; }\n#pragma code_seg()\n');
    const textseg = join(dir, 'textseg.obj');
    await execa(requireTool('clang-cl'), ['/nologo', '/c', '/kernel', '--target=x86_64-pc-windows-msvc', `/Fo${textseg}`, '--', src]);
    const out = join(dir, 'wdkmerge.sys');
    const r = await link(['--verbose', ...DRIVER_FLAGS, clean, textseg, lib, `/out:${out}`, '/include:Helper', '/MERGE:_TEXT=.text;_PAGE=PAGE']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/split .* into \/merge:_TEXT=\.text \/merge:_PAGE=PAGE/);
    expect(headersOf(out).sections.map((s) => s.name)).not.toContain('.text;_P');
    // The bare linker makes the odd section name the wrapper avoids.
    const bare = join(dir, 'wdkmerge-bare.sys');
    await execa(requireTool('lld-link'), [...DRIVER_FLAGS, clean, textseg, lib, `/out:${bare}`, '/include:Helper', '/MERGE:_TEXT=.text;_PAGE=PAGE']);
    expect(headersOf(bare).sections.map((s) => s.name)).toContain('.text;_P');
  });

  it("WDK's /SECTION:INIT,d gives a discardable, readable, executable INIT, as link.exe does", async () => {
    const out = join(dir, 'initd.sys');
    const r = await link([...DRIVER_FLAGS, init, lib, `/out:${out}`, '/SECTION:INIT,d']);
    expect(r.exitCode).toBe(0);
    const s = section(out, 'INIT')!;
    expect(s.characteristics & 0xe2000000).toBe(0x62000000); // R + X + D, not W
    expect(checkImage(out).findings.map((f) => f.rule)).not.toContain('code-not-executable');
    // Bare lld-link replaces the bits: INIT ends up neither readable nor executable.
    const bare = join(dir, 'initd-bare.sys');
    await execa(requireTool('lld-link'), [...DRIVER_FLAGS, init, lib, `/out:${bare}`, '/SECTION:INIT,d']);
    expect(section(bare, 'INIT')!.characteristics & 0x60000000).toBe(0);
  });

  it('! negations are translated: /SECTION:.data,!W makes .data read-only', async () => {
    const out = join(dir, 'negate.sys');
    const r = await link([...DRIVER_FLAGS, clean, lib, `/out:${out}`, '/SECTION:.data,!W']);
    expect(r.exitCode).toBe(0);
    expect(section(out, '.data')!.characteristics & 0xe0000000).toBe(0x40000000);
  });

  it('code into code and data into read-only data are allowed', async () => {
    const out = join(dir, 'allowed.sys');
    const r = await link([...DRIVER_FLAGS, clean, lib, `/out:${out}`, '/merge:.edata=.rdata', '/merge:PAGE=.text']);
    expect(r.exitCode).toBe(0);
  });
});

describe('validation after the link', () => {
  it('an image with errors fails the link and is moved aside, the PDB stays', async () => {
    const out = join(dir, 'straddle.sys');
    const r = await link([...DRIVER_FLAGS, straddle, lib, `/out:${out}`, '/debug', `/pdb:${join(dir, 'straddle.pdb')}`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error straddling-reloc: DIR64 relocation at RVA 0x[0-9A-F]+ \(\.data\)/);
    expect(r.stderr).toMatch(/straddle\.sys fails memory integrity checks; moved to straddle\.sys\.rejected/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.rejected`)).toBe(true);
    expect(existsSync(join(dir, 'straddle.pdb'))).toBe(true);
  });

  it('the report can be SARIF in a file', async () => {
    const out = join(dir, 'straddle2.sys');
    const report = join(dir, 'link.sarif');
    const r = await link(['--format', 'sarif', '--report', report, ...DRIVER_FLAGS, straddle, lib, `/out:${out}`]);
    expect(r.exitCode).toBe(1);
    const sarif = JSON.parse(readFileSync(report, 'utf8'));
    expect(sarif.runs[0].results.some((x: { ruleId: string }) => x.ruleId === 'straddling-reloc')).toBe(true);
  });

  it('the config can delete instead, and relax a policy with a notice', async () => {
    const project = tempDir('linkcfg');
    writeFileSync(join(project, 'package.json'), '{}');
    writeFileSync(
      join(project, 'hvci.config.json'),
      JSON.stringify({ link: { rejected: 'delete', allowMerges: ['.rdata=.text'] }, rules: { 'iat-in-exec': 'warning' } }),
    );
    const bad = join(project, 'bad.sys');
    const r1 = await link([...DRIVER_FLAGS, straddle, lib, `/out:${bad}`], { cwd: project });
    expect(r1.exitCode).toBe(1);
    expect(existsSync(bad) || existsSync(`${bad}.rejected`)).toBe(false);
    const merged = join(project, 'merged.sys');
    const r2 = await link([...DRIVER_FLAGS, clean, lib, `/out:${merged}`, '/merge:.rdata=.text'], { cwd: project });
    expect(r2.exitCode).toBe(0);
    expect(r2.stderr).toMatch(/note: allowed by config: \/MERGE:\.rdata=\.text/);
    expect(r2.stderr).toMatch(/warning iat-in-exec/);
  });
});

describe('command lines as build systems write them', () => {
  it('response files (Windows quoting) with paths containing spaces', async () => {
    const spaced = join(dir, 'with space');
    mkdirSync(spaced, { recursive: true });
    const obj = await compileFixture('clean.c', spaced);
    const out = join(spaced, 'rsp out.sys');
    const rsp = join(spaced, 'link args.rsp');
    writeFileSync(rsp, [...DRIVER_FLAGS, `"${obj}"`, lib, `"/out:${out}"`].join('\r\n'));
    const r = await link([`@${rsp}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    // A refused flag inside a nested response file is found too.
    const inner = join(spaced, 'inner.rsp');
    writeFileSync(inner, '/merge:.rdata=.text');
    writeFileSync(rsp, [...DRIVER_FLAGS, `"${obj}"`, lib, `"/out:${out}"`, `@"${inner}"`].join(' '));
    expect((await link([`@${rsp}`])).exitCode).toBe(2);
  });

  it('--rsp-quoting=posix is honoured', async () => {
    const out = join(dir, 'posix out.sys');
    const rsp = join(dir, 'posix.rsp');
    writeFileSync(rsp, [...DRIVER_FLAGS, clean, lib, `'/out:${out}'`].join(' '));
    const r = await link(['--rsp-quoting=posix', `@${rsp}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('two links in parallel in one directory with long command lines do not clobber each other', async () => {
    // Over 100,000 characters: the wrapper passes them to lld-link in a private response file.
    const filler = Array.from({ length: 9000 }, () => '/ignore:4099');
    const outs = ['par1.sys', 'par2.sys'].map((n) => join(dir, n));
    const results = await Promise.all(outs.map((out) => link([...DRIVER_FLAGS, clean, lib, `/out:${out}`, ...filler])));
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    for (const out of outs) expect(checkImage(out).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('hvci-lld-link is a drop-in, and the launcher form takes the real linker first', async () => {
    const bin = fileURLToPath(new URL('../dist/bin/hvci-lld-link.cjs', import.meta.url));
    const out1 = join(dir, 'dropin.sys');
    const r1 = await execa(NODE, [bin, ...DRIVER_FLAGS, clean, lib, `/out:${out1}`], { cwd: dir, reject: false });
    expect(r1.exitCode).toBe(0);
    const out2 = join(dir, 'launch.sys');
    const r2 = await runCli(['launch', requireTool('lld-link'), ...DRIVER_FLAGS, clean, lib, `/out:${out2}`, '/merge:.rdata=.text'], { cwd: dir });
    expect(r2.exitCode).toBe(2);
    expect(existsSync(out2)).toBe(false);
  });

  it('a missing linker is one line naming the tool, exit 2', async () => {
    const r = await link([...DRIVER_FLAGS, clean, lib], { env: { PATH: '/nonexistent', HVCI_LLD_LINK: '', HVCI_LLVM_DIRS: '' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/lld-link not found/);
  });
});

describe('found in review', () => {
  it('without /out: the image is named as lld-link names it (/dll wins, first input, .def LIBRARY) and is checked', async () => {
    const sub = join(dir, 'noout');
    mkdirSync(sub, { recursive: true });
    const r1 = await link([...DRIVER_FLAGS, lib, clean], { cwd: sub });
    expect(r1.exitCode, r1.stderr).toBe(0);
    expect(existsSync(join(sub, 'ntoskrnl.sys'))).toBe(true);
    writeFileSync(join(sub, 'exp.def'), 'LIBRARY mydrv.sys\nEXPORTS\n  DriverEntry\n');
    const r2 = await link([...DRIVER_FLAGS, '/dll', clean, lib, '/def:exp.def'], { cwd: sub });
    expect(r2.exitCode, r2.stderr).toBe(0);
    expect(existsSync(join(sub, 'mydrv.sys'))).toBe(true);
  });

  it('/SECTION:INIT,d is translated when INIT comes from a static library (the KMDF WdfDriverEntry.lib pattern)', async () => {
    const stubLib = join(dir, 'InitStub.lib');
    await execa(requireTool('llvm-lib'), ['/nologo', `/out:${stubLib}`, init]);
    const out = join(dir, 'fromlib.sys');
    const r = await link([...DRIVER_FLAGS, stubLib, lib, `/out:${out}`, '/SECTION:INIT,d', '/include:DriverEntry']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(section(out, 'INIT')!.characteristics & 0xe2000000).toBe(0x62000000);
  });

  it('lld-link /lib (the librarian) passes through untouched', async () => {
    const out = join(dir, 'passthrough.lib');
    const r = await link(['/lib', '/nologo', `/out:${out}`, clean]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('a UTF-16 big-endian response file is read', async () => {
    const out = join(dir, 'u16be.sys');
    const text = [...DRIVER_FLAGS, clean, lib, `/out:${out}`].join(' ');
    const rsp = join(dir, 'u16be.rsp');
    writeFileSync(rsp, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]));
    const r = await link([`@${rsp}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('a /SECTION that leaves no attributes is refused with a message, not passed on', async () => {
    const r = await link([...DRIVER_FLAGS, clean, lib, `/out:${join(dir, 'noattr.sys')}`, '/section:.data,!r!w']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/leaves section \.data with no attributes/);
  });

  it('PAGEDATA is data: merging .rdata into it is allowed', async () => {
    const r = await link([...DRIVER_FLAGS, clean, lib, `/out:${join(dir, 'pagedata.sys')}`, '/merge:.rdata=PAGEDATA']);
    expect(r.stderr).not.toMatch(/mixes data and code/);
  });
});
