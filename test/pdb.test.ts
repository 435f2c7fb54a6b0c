/**
 * Source locations from the PDB (src/pdb, src/symbols): drivers built here by clang-cl /Zi or
 * /Z7 and lld-link /debug, for x64, x86 and ARM64 at /Od and /O2, one call inlined; every
 * finding's file and line is held to llvm-symbolizer's and llvm-pdbutil's reading of the
 * same PDB. The builds stay where they were linked, so the image's CodeView path finds the
 * PDB for llvm-symbolizer as it does for hvci-build.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import type { Finding } from '../src/findings.js';
import { openPdb } from '../src/pdb/index.js';
import { readCodeView } from '../src/pe/debug-directory.js';
import { imageSymbols } from '../src/symbols/index.js';
import { mapSourcePath } from '../src/symbols/source-paths.js';
import { parseHeaders } from '../src/pe/headers.js';
import { bufferSource } from '../src/pe/source.js';
import { requireTool } from '../src/toolchain/find-tool.js';
import { buildImplib } from './fixtures/build.js';
import { runCli } from './helpers/cli.js';
import { githubConfig, validate } from './helpers/sarif-multitool.js';
import { FIXTURE_INCLUDE, FIXTURE_SRC, tempDir } from './helpers/toolchain.js';
import { hostilePdbs } from './hostile/generate.js';
import { prng } from './helpers/image-edit.js';

const TARGET = { x64: 'x86_64-pc-windows-msvc', x86: 'i686-pc-windows-msvc', arm64: 'aarch64-pc-windows-msvc' } as const;
type Arch = keyof typeof TARGET;
const SOURCES = ['callsite-pool.c', 'callsite-inline.c'];
const CALLSITE_RULES = ['exec-pool-type', 'exec-page-protection', 'exec-mdl-mapping', 'unknown-pool-type'];

interface Build {
  dir: string;
  image: string;
  base: number;
}

/** Compiles SOURCES (copied to dir/src) and links dir/drv.sys with a PDB beside it. */
async function buildDriver(dir: string, arch: Arch, opt: '/Od' | '/O2', debug: '/Zi' | '/Z7', extra: string[] = []): Promise<Build> {
  mkdirSync(join(dir, 'src'), { recursive: true });
  const objs: string[] = [];
  for (const s of SOURCES) {
    cpSync(join(FIXTURE_SRC, s), join(dir, 'src', s));
    const obj = s.replace(/\.c$/, '.obj');
    await execa(requireTool('clang-cl'), ['/c', '/nologo', '/kernel', '/Gy', '/GS-', opt, debug, ...extra, `--target=${TARGET[arch]}`, `/I${FIXTURE_INCLUDE}`, `/Fo${obj}`, '--', `src/${s}`], { cwd: dir });
    objs.push(obj);
  }
  const lib = await buildImplib(arch);
  // /opt:noref keeps AllocInlined, which nothing calls.
  const flags = ['/nologo', '/driver', '/subsystem:native', '/entry:DriverEntry', '/nodefaultlib', `/machine:${arch}`, '/debug', '/opt:noref'];
  await execa(requireTool('lld-link'), [...flags, lib, ...objs, '/out:drv.sys'], { cwd: dir });
  const image = join(dir, 'drv.sys');
  return { dir, image, base: Number(parseHeaders(bufferSource(readFileSync(image))).imageBase) };
}

const callSiteFindings = (fs: readonly Finding[]): Finding[] => fs.filter((f) => CALLSITE_RULES.includes(f.rule));
/** x86 names are decorated (_AllocExec, _DriverEntry@8). */
const plain = (n: unknown): string => String(n ?? '').replace(/^_/, '').replace(/@\d+$/, '');

interface Frame {
  FileName: string;
  FunctionName: string;
  Line: number;
  Column: number;
}

/** llvm-symbolizer's frames for each RVA (innermost first), reading the PDB the image names. */
async function symbolize(b: Build, rvas: readonly number[]): Promise<Frame[][]> {
  const vas = rvas.map((r) => '0x' + (b.base + r).toString(16));
  const r = await execa('llvm-symbolizer-19', [`--obj=${b.image}`, '--output-style=JSON', ...vas]);
  return (JSON.parse(r.stdout) as { Symbol: Frame[] }[]).map((x) => x.Symbol);
}

/** Line of each RVA from `llvm-pdbutil dump -l`: the last entry at or before it in its block. */
async function pdbutilLines(b: Build, textRva: number): Promise<(rva: number) => { file: string; line: number } | undefined> {
  const out = (await execa('llvm-pdbutil-19', ['dump', '-l', join(b.dir, 'drv.pdb')])).stdout;
  const blocks: { start: number; end: number; file: string; entries: [number, number][] }[] = [];
  let file = '';
  for (const line of out.split('\n')) {
    const f = /^(\/\S+) \(MD5/.exec(line);
    if (f) file = f[1]!;
    const blk = /^\s+0001:([0-9A-F]{8})-([0-9A-F]{8}), line\/(?:column\/)?addr entries/.exec(line);
    if (blk) blocks.push({ start: parseInt(blk[1]!, 16), end: parseInt(blk[2]!, 16), file, entries: [] });
    else if (/^\s+\d+ [0-9A-F]{8}/.test(line)) for (const m of line.matchAll(/(\d+) ([0-9A-F]{8})/g)) blocks.at(-1)!.entries.push([parseInt(m[2]!, 16), Number(m[1])]);
  }
  return (rva) => {
    const off = rva - textRva;
    const blk = blocks.find((x) => off >= x.start && off <= x.end);
    const e = blk?.entries.filter(([o]) => o <= off).at(-1);
    return blk && e ? { file: blk.file, line: e[1] } : undefined;
  };
}

const BUILDS = (['x64', 'x86', 'arm64'] as const).flatMap((arch) => [
  { arch, opt: '/Od' as const, debug: '/Zi' as const },
  { arch, opt: '/O2' as const, debug: '/Z7' as const },
  // Columns in the line tables (clang-cl leaves them out of CodeView unless asked).
  ...(arch === 'x64' ? [{ arch, opt: '/O2' as const, debug: '/Z7' as const, columns: true }] : []),
]);
const builds = new Map<string, Build>();
const key = (b: (typeof BUILDS)[number]): string => `${b.arch} ${b.opt} ${b.debug}${'columns' in b ? ' columns' : ''}`;

beforeAll(async () => {
  await Promise.all(BUILDS.map(async (b) => builds.set(key(b), await buildDriver(tempDir(`pdb-${b.arch}-${b.opt.slice(1)}`), b.arch, b.opt, b.debug, 'columns' in b ? ['/clang:-gcolumn-info'] : []))));
}, 300_000);

describe('source lines of call-site findings, held to llvm-symbolizer and llvm-pdbutil', () => {
  for (const spec of BUILDS) {
    it(`${key(spec)}: every call-site finding has the file, line and function both tools give`, async () => {
      const b = builds.get(key(spec))!;
      const findings = callSiteFindings(checkImage(b.image).findings);
      expect(findings.length).toBeGreaterThanOrEqual(10);
      const frames = await symbolize(b, findings.map((f) => f.rva!));
      const text = (await execa('llvm-readobj-19', ['--sections', b.image])).stdout;
      const textRva = parseInt(/Name: \.text[\s\S]*?VirtualAddress: 0x([0-9A-F]+)/.exec(text)![1]!, 16);
      const lineOf = await pdbutilLines(b, textRva);
      findings.forEach((f, i) => {
        // Innermost frame first: for an inlined call, the inlined function's line; the last
        // frame is the line table's answer, the caller's line.
        const inner = frames[i]![0]!;
        const outer = frames[i]!.at(-1)!;
        expect(f.source, f.message).toBeDefined();
        expect([f.source!.file, f.source!.line, f.source!.column ?? 0, plain(f.source!.function)], f.message).toEqual([posix.normalize(inner.FileName), inner.Line, inner.Column, plain(inner.FunctionName)]);
        if ('columns' in spec && !f.source!.inlinedAt) expect(f.source!.column).toBeGreaterThan(0);
        const table = f.source!.inlinedAt ?? f.source!;
        expect([table.file, table.line, plain(table.function)]).toEqual([posix.normalize(outer.FileName), outer.Line, plain(outer.FunctionName)]);
        expect(f.source!.object).toBe(join(b.dir, f.source!.file.endsWith('inline.c') ? 'callsite-inline.obj' : 'callsite-pool.obj'));
        const u = lineOf(f.rva!)!;
        expect([posix.normalize(u.file), u.line]).toEqual([table.file, table.line]);
      });
      const inlined = findings.find((f) => f.source!.file.endsWith('callsite-inline.c'))!;
      expect(inlined.source).toMatchObject({ function: 'AllocHelper', line: 13, inlinedAt: { line: 17 } });
      expect(plain(inlined.source!.inlinedAt!.function)).toBe('AllocInlined');
      expect(frames[findings.indexOf(inlined)]!.map((x) => plain(x.FunctionName))).toEqual(['AllocHelper', 'AllocInlined']);
      const src = readFileSync(join(b.dir, 'src', 'callsite-pool.c'), 'utf8').split('\n');
      const exec = findings.find((f) => plain(f.args.function) === 'AllocExec')!;
      expect(src[exec.source!.line - 1]).toContain('ExAllocatePoolWithTag(NonPagedPool,');
    });
  }
});

describe('a line block that starts before its first entry (MASM, alignment before a procedure)', () => {
  it('those bytes are the first entry\'s line, as llvm-symbolizer reads them', async () => {
    // The shape MSVC's memcpy.asm and crt_amdsecgs.asm leave in real drivers' PDBs: the block
    // covers padding before its first line entry.
    const dir = tempDir('pdb-masm');
    writeFileSync(join(dir, 'pad.s'), [
      '\t.text', '\t.globl DriverEntry', '\t.p2align 4', 'start_block:', '\tint3', '\tint3', '\tint3', '\tint3', 'DriverEntry:',
      '\t.cv_func_id 0', '\t.cv_file 1 "/src/pad.asm"', '\t.cv_loc 0 1 10 0', '\txor eax, eax', '\t.cv_loc 0 1 11 0', '\tret', 'end_block:',
      '\t.section .debug$S,"dr"', '\t.p2align 2', '\t.long 4', '\t.cv_linetable 0, start_block, end_block', '\t.cv_filechecksums', '\t.cv_stringtable', '',
    ].join('\n'));
    await execa('llvm-mc-19', ['-filetype=obj', '-triple', 'x86_64-pc-windows-msvc', '--x86-asm-syntax=intel', 'pad.s', '-o', 'pad.obj'], { cwd: dir });
    const lib = await buildImplib('x64');
    await execa(requireTool('lld-link'), ['/nologo', '/driver', '/subsystem:native', '/entry:DriverEntry', '/nodefaultlib', '/debug', lib, 'pad.obj', '/out:drv.sys'], { cwd: dir });
    const b: Build = { dir, image: join(dir, 'drv.sys'), base: 0 };
    const src = bufferSource(readFileSync(b.image));
    const h = parseHeaders(src);
    b.base = Number(h.imageBase);
    const text = h.sections.find((x) => x.name === '.text')!;
    const rvas = Array.from({ length: 7 }, (_, i) => text.virtualAddress + i);
    const frames = await symbolize(b, rvas);
    const syms = imageSymbols(b.image, h, readCodeView(src, h));
    const got = rvas.map((rva) => syms.sourceAt(rva));
    expect(got.map((g) => [g?.file, g?.line])).toEqual(frames.map((f) => [f[0]!.FileName, f[0]!.Line]));
    // The padding is in the block: line 10, as the first entry.
    expect(got[0]?.line).toBe(10);
  }, 60_000);
});

describe('every byte of the code, held to llvm-symbolizer', () => {
  for (const spec of BUILDS) {
    it(`${key(spec)}: function, file and line (innermost frame) and the caller's line of inlined code`, async () => {
      const b = builds.get(key(spec))!;
      const bytes = readFileSync(b.image);
      const src = bufferSource(bytes);
      const h = parseHeaders(src);
      const text = h.sections.find((x) => x.name === '.text')!;
      const syms = imageSymbols(b.image, h, readCodeView(src, h));
      const rvas = Array.from({ length: text.virtualSize }, (_, i) => text.virtualAddress + i);
      const frames = await symbolize(b, rvas);
      let placed = 0;
      rvas.forEach((rva, i) => {
        const got = syms.sourceAt(rva);
        const inner = frames[i]![0]!;
        const outer = frames[i]!.at(-1)!;
        const where = `RVA 0x${rva.toString(16)}`;
        if (inner.Line === 0) {
          expect(got, where).toBeUndefined();
          return;
        }
        placed++;
        expect([got?.file, got?.line, got?.column ?? 0, plain(got?.function)], where).toEqual([posix.normalize(inner.FileName), inner.Line, inner.Column, plain(inner.FunctionName)]);
        const table = got!.inlinedAt ?? got!;
        expect([table.line, plain(table.function)], where).toEqual([outer.Line, plain(outer.FunctionName)]);
      });
      expect(placed).toBeGreaterThan(text.virtualSize * 0.8);
    }, 60_000);
  }
});

describe('reporters', () => {
  const x64 = (): Build => builds.get('x64 /O2 /Z7')!;

  it('text: the source line leads, then the image and where in it', async () => {
    const r = await runCli(['check', 'drv.sys'], { cwd: x64().dir });
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.split('\n');
    const i = lines.findIndex((l) => /^src\/callsite-pool\.c:18: error exec-pool-type: ExAllocatePoolWithTag allocates executable memory/.test(l));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(lines[i + 1]).toMatch(/^ {2}drv\.sys: section \.text, RVA 0x[0-9A-F]+, file offset 0x[0-9A-F]+$/);
    expect(lines.filter((l) => l.startsWith('drv.sys: error'))).toEqual([]);
  });

  it('json: source { file, line, function, object } relative to cwd beside the binary location', async () => {
    const r = await runCli(['check', 'drv.sys', '-f', 'json'], { cwd: x64().dir });
    const f = JSON.parse(r.stdout).files[0].findings.find((x: Finding) => x.args.function === 'AllocExec');
    expect(f.source).toEqual({ file: 'src/callsite-pool.c', line: 18, function: 'AllocExec', object: 'callsite-pool.obj' });
    expect(f.section).toBe('.text');
    expect(typeof f.rva).toBe('number');
  });

  it('github: annotates file=src/callsite-pool.c,line=N; the image is named in the message', async () => {
    const r = await runCli(['check', 'drv.sys', '-f', 'github'], { cwd: x64().dir });
    expect(r.stdout).toMatch(/^::error file=src\/callsite-pool\.c,line=18,title=hvci-build exec-pool-type::drv\.sys: ExAllocatePoolWithTag allocates/m);
    expect(r.stdout).not.toMatch(/file=drv\.sys/);
  });

  it('sarif: the source line is the primary location, the image a related one; valid for GitHub code scanning', async () => {
    const dir = x64().dir;
    const r = await runCli(['check', 'drv.sys', '-f', 'sarif', '-o', 'out.sarif'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(readFileSync(join(dir, 'out.sarif'), 'utf8'));
    const res = doc.runs[0].results.find((x: { properties: { args: { function?: string } } }) => x.properties.args.function === 'AllocExec');
    expect(res.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'src/callsite-pool.c', uriBaseId: 'SRCROOT' }, region: { startLine: 18 } });
    expect(res.relatedLocations[0].physicalLocation.artifactLocation).toMatchObject({ uri: 'drv.sys', uriBaseId: 'SRCROOT' });
    expect(res.relatedLocations[0].physicalLocation.region.byteOffset).toBeGreaterThan(0);
    const { results } = validate(join(dir, 'out.sarif'), ['--config', githubConfig(join(dir, 'gh.xml'))]);
    expect(results.filter((x) => x.level === 'error')).toEqual([]);
  }, 120_000);
});

describe('a PDB built in one directory, checked from another', () => {
  let moved: string;
  let built: string;
  beforeAll(async () => {
    built = tempDir('pdb-built');
    await buildDriver(built, 'x64', '/O2', '/Z7');
    moved = `${built}-moved`;
    renameSync(built, moved);
  }, 120_000);

  it('without a path map: text shows the build machine\'s path; github and SARIF keep the image primary, the source beside it', async () => {
    const src = join(built, 'src/callsite-pool.c');
    const text = await runCli(['check', 'drv.sys'], { cwd: moved });
    expect(text.stdout).toMatch(new RegExp(`^${src}:18: error exec-pool-type: `, 'm'));
    const gh = await runCli(['check', 'drv.sys', '-f', 'github'], { cwd: moved });
    expect(gh.stdout).toMatch(/^::error file=drv\.sys,title=hvci-build exec-pool-type::ExAllocatePoolWithTag allocates executable memory: PoolType is 0x0/m);
    expect(gh.stdout).toContain(`(source: ${src}:18)`);
    const sarif = JSON.parse((await runCli(['check', 'drv.sys', '-f', 'sarif'], { cwd: moved })).stdout);
    const res = sarif.runs[0].results.find((x: { properties: { args: { function?: string } } }) => x.properties.args.function === 'AllocExec');
    expect(res.locations[0].physicalLocation.artifactLocation).toMatchObject({ uri: 'drv.sys', uriBaseId: 'SRCROOT' });
    expect(res.relatedLocations[0].physicalLocation).toEqual({ artifactLocation: { uri: pathToFileURL(src).href }, region: { startLine: 18 } });
  });

  it('--path-map FROM=TO (and pathMap in the config) map it to the checkout', async () => {
    const r = await runCli(['check', 'drv.sys', '-f', 'github', '--path-map', `${built}=.`], { cwd: moved });
    expect(r.stdout).toMatch(/^::error file=src\/callsite-pool\.c,line=18,/m);
    writeFileSync(join(moved, 'hvci.config.json'), JSON.stringify({ pathMap: { [built]: '.' } }));
    const c = await runCli(['check', 'drv.sys', '-f', 'github'], { cwd: moved });
    expect(c.stdout).toMatch(/^::error file=src\/callsite-pool\.c,line=18,/m);
  });

  it('a PDB of another build beside the image: a note, no source, findings as without symbols', () => {
    const other = join(tempDir('pdb-other'), 'drv.sys');
    cpSync(join(moved, 'drv.sys'), other);
    cpSync(join(builds.get('x64 /O2 /Z7')!.dir, 'drv.pdb'), other.replace(/\.sys$/, '.pdb'));
    const r = checkImage(other);
    expect(callSiteFindings(r.findings).length).toBeGreaterThan(5);
    for (const f of callSiteFindings(r.findings)) expect(f.source).toBeUndefined();
    const notes = r.findings.filter((f) => f.rule === 'skipped-check');
    expect(notes.map((f) => f.message)).toEqual([expect.stringMatching(/^the PDB .*drv\.pdb belongs to another build \(GUID [0-9A-F]{32}, the image's [0-9A-F]{32}\)/)]);
  });

  it('a damaged module stream (llvm-pdbutil dump -stream-blocks finds it): that module has no source lines, a note says the PDB is damaged in part', async () => {
    const dir = tempDir('pdb-partial');
    for (const f of ['drv.sys', 'drv.pdb']) cpSync(join(moved, f), join(dir, f));
    const pdb = join(dir, 'drv.pdb');
    const streams = (await execa('llvm-pdbutil-19', ['dump', '-streams', '-stream-blocks', pdb])).stdout;
    const m = /\[Module "[^"]*callsite-pool\.obj"\]\s+Blocks: \[([\d, ]+)\]/.exec(streams)!;
    const bytes = readFileSync(pdb);
    for (const blk of m[1]!.split(', ').map(Number)) bytes.fill(0xff, blk * 4096, (blk + 1) * 4096);
    writeFileSync(pdb, bytes);
    const r = checkImage(join(dir, 'drv.sys'));
    const pool = callSiteFindings(r.findings).filter((f) => f.args.function !== 'AllocInlined');
    expect(pool.length).toBeGreaterThan(5);
    for (const f of pool) expect(f.source).toBeUndefined();
    // The other module still gives its line.
    expect(callSiteFindings(r.findings).find((f) => f.source)?.source).toMatchObject({ function: 'AllocHelper', line: 13 });
    const notes = r.findings.filter((f) => f.rule === 'skipped-check').map((f) => f.message);
    expect(notes).toEqual([expect.stringMatching(/^the PDB .*drv\.pdb is damaged in part \(module 0 stream cut short .*\): findings in that part carry no source lines$/)]);
  });

  it('a clean driver does not read its PDB: no note even when the PDB is damaged', async () => {
    const dir = tempDir('pdb-clean');
    cpSync(join(FIXTURE_SRC, 'clean.c'), join(dir, 'clean.c'));
    await execa(requireTool('clang-cl'), ['/c', '/nologo', '/kernel', '/GS-', '/Z7', '--target=x86_64-pc-windows-msvc', `/I${FIXTURE_INCLUDE}`, '/Foclean.obj', '--', 'clean.c'], { cwd: dir });
    await execa(requireTool('lld-link'), ['/nologo', '/driver', '/subsystem:native', '/entry:DriverEntry', '/nodefaultlib', '/machine:x64', '/debug', await buildImplib('x64'), 'clean.obj', '/out:clean.sys'], { cwd: dir });
    writeFileSync(join(dir, 'clean.pdb'), hostilePdbs()['directory-4gib']!);
    const r = checkImage(join(dir, 'clean.sys'));
    expect(r.findings.filter((f) => f.severity !== 'note')).toEqual([]);
    expect(r.findings.map((f) => f.rule)).not.toContain('skipped-check');
  });
});

describe('hvci-build build links with /debug by default', () => {
  it('the PDB is beside the driver, and a finding is on the source line', async () => {
    const dir = tempDir('pdb-init');
    expect((await runCli(['init'], { cwd: dir })).exitCode).toBe(0);
    const driver = join(dir, 'src', 'driver.c');
    writeFileSync(driver, readFileSync(driver, 'utf8').replace('NonPagedPoolNx, 64', 'NonPagedPool, 64'));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(1);
    const name = dir.split('/').pop()!.replace(/[^A-Za-z0-9_]/g, '_');
    expect(existsSync(join(dir, 'build', `${name}.pdb`))).toBe(true);
    const line = readFileSync(driver, 'utf8').split('\n').findIndex((l) => l.includes('NonPagedPool, 64')) + 1;
    expect(r.stdout + r.stderr).toMatch(new RegExp(`^src/driver\\.c:${line}: error exec-pool-type: `, 'm'));
  }, 120_000);

  it('build.debug: false links without a PDB', async () => {
    const dir = tempDir('pdb-nodebug');
    expect((await runCli(['init'], { cwd: dir })).exitCode).toBe(0);
    const config = join(dir, 'hvci.config.ts');
    writeFileSync(config, readFileSync(config, 'utf8').replace("arch: 'x64',", "arch: 'x64',\n    debug: false,"));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const name = dir.split('/').pop()!.replace(/[^A-Za-z0-9_]/g, '_');
    expect(existsSync(join(dir, 'build', `${name}.sys`))).toBe(true);
    expect(existsSync(join(dir, 'build', `${name}.pdb`))).toBe(false);
  }, 120_000);
});

/** One fixture source compiled with /Z7 and linked with /debug and `ldflags`, in its own directory. */
async function buildOne(source: string, ldflags: string[]): Promise<string> {
  const dir = tempDir(`pdb-${source.replace(/\.c$/, '')}`);
  cpSync(join(FIXTURE_SRC, source), join(dir, source));
  const obj = source.replace(/\.c$/, '.obj');
  await execa(requireTool('clang-cl'), ['/c', '/nologo', '/kernel', '/GS-', '/O2', '/Z7', '--target=x86_64-pc-windows-msvc', `/I${FIXTURE_INCLUDE}`, `/Fo${obj}`, '--', source], { cwd: dir });
  const flags = ['/nologo', '/driver', '/subsystem:native', '/entry:DriverEntry', '/nodefaultlib', '/machine:x64', '/debug'];
  await execa(requireTool('lld-link'), [...flags, await buildImplib('x64'), obj, ...ldflags, '/out:drv.sys'], { cwd: dir });
  return join(dir, 'drv.sys');
}

describe('data and section findings name what the PDB says holds them', () => {
  it('straddling-reloc: the global variable holding the pointer, at the offset llvm-pdbutil gives, and its object', async () => {
    const image = await buildOne('straddle.c', []);
    const found = checkImage(image).findings.filter((f) => f.rule === 'straddling-reloc');
    expect(found.length).toBeGreaterThan(0);
    const globals = (await execa('llvm-pdbutil-19', ['dump', '-globals', image.replace(/\.sys$/, '.pdb')])).stdout;
    const m = /S_GDATA32 \[size = \d+\] `MayHaveStraddleRelocations`\s+type = [^,]+, addr = 0*(\d+):(\d+)/.exec(globals)!;
    const h = parseHeaders(bufferSource(readFileSync(image)));
    const start = h.sections[Number(m[1]) - 1]!.virtualAddress + Number(m[2]);
    for (const f of found) {
      expect(f.args.global).toBe(`MayHaveStraddleRelocations+0x${(f.rva! - start).toString(16).toUpperCase()}`);
      expect(f.args.object).toBe('straddle.obj');
      expect(f.message).toMatch(/, in MayHaveStraddleRelocations\+0x[0-9A-F]+ \(straddle\.obj\)$/);
    }
  }, 60_000);

  it('wx-section, writable-code, no-permissions: the object files that contributed to the section', async () => {
    const cases = [
      { rule: 'wx-section', image: await buildOne('clean.c', ['/section:.data,rwe']), obj: 'clean.obj' },
      { rule: 'writable-code', image: await buildOne('writable-code.c', ['/section:PAGEW,rw']), obj: 'writable-code.obj' },
      { rule: 'no-permissions', image: await buildOne('no-perms.c', []), obj: 'no-perms.obj' },
    ];
    for (const c of cases) {
      const f = checkImage(c.image).findings.find((x) => x.rule === c.rule)!;
      expect(f, c.rule).toBeDefined();
      expect(f.args.objects, c.rule).toEqual([c.obj]);
      expect(f.args.objectFiles).toEqual([join(dirname(c.image), c.obj)]);
      expect(f.message).toMatch(new RegExp(`; its contents come from ${c.obj.replace('.', '\\.')}$`));
    }
  }, 120_000);
});

describe('path map', () => {
  it('normalises, then replaces the longest matching prefix by whole segments; Windows paths without case', () => {
    const map = [
      { from: 'C:\\build\\drv', to: '/repo' },
      { from: 'c:/build/drv/third_party', to: '/vendor' },
      { from: '/home/ci/work/drv/', to: '.' },
    ];
    expect(mapSourcePath('C:\\Build\\DRV\\src\\..\\src\\driver.c', map)).toBe('/repo/src/driver.c');
    expect(mapSourcePath('C:\\build\\drv\\third_party\\lib.c', map)).toBe('/vendor/lib.c');
    expect(mapSourcePath('C:\\build\\drv2\\x.c', map)).toBe('C:/build/drv2/x.c');
    expect(mapSourcePath('/home/ci/work/drv/src/a.c', map)).toBe('src/a.c');
    expect(mapSourcePath('/home/ci/work/DRV/src/a.c', map)).toBe('/home/ci/work/DRV/src/a.c');
    expect(mapSourcePath('/a/b/../c/./d.c', [])).toBe('/a/c/d.c');
  });

  it('--path-map without FROM=TO is a usage error: exit 2, one line', async () => {
    const r = await runCli(['check', 'drv.sys', '--path-map', 'C:/build'], { cwd: builds.get('x64 /O2 /Z7')!.dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--path-map must be FROM=TO .*not 'C:\/build'/)]);
  });
});

describe('openPdb on hostile PDBs: a problem code, no exception', () => {
  const identity = { guid: Buffer.alloc(16), age: 1 };
  for (const [name, pdb] of Object.entries(hostilePdbs())) {
    it(name, () => {
      const t = performance.now();
      const r = openPdb(pdb, identity, [{ virtualAddress: 0x1000, size: 0x1000 }]);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).toBe('container');
      expect(performance.now() - t).toBeLessThan(500);
    });
  }

  it('a real PDB with random bytes changed (its identity kept): a problem code or lookups that never throw', () => {
    const b = builds.get('x64 /O2 /Z7')!;
    const real = readFileSync(join(b.dir, 'drv.pdb'));
    const src = bufferSource(readFileSync(b.image));
    const h = parseHeaders(src);
    const cv = readCodeView(src, h)!;
    const sections = h.sections.map((x) => ({ virtualAddress: x.virtualAddress, size: x.virtualSize }));
    const rand = prng(11);
    let usable = 0;
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(real);
      // Past the superblock and the info stream's block, so that many copies still open.
      for (let k = 0; k < 1 + Math.floor(rand() * 8); k++) copy[4096 * 2 + Math.floor(rand() * (copy.length - 8192))] = Math.floor(rand() * 256);
      const r = openPdb(copy, cv, sections);
      if (!r.ok) continue;
      usable++;
      for (let rva = 0x1000; rva < 0x1600; rva += 3) {
        r.pdb.at(rva);
        r.pdb.dataAt(rva + 0x2000);
      }
      r.pdb.contributors(0, 0x10000);
    }
    expect(usable).toBeGreaterThan(100);
  });

  it('truncated copies of a real PDB, cut anywhere: a problem code or a usable PDB, never an exception', () => {
    const b = builds.get('x64 /O2 /Z7')!;
    const real = readFileSync(join(b.dir, 'drv.pdb'));
    const info = openPdb(real, { guid: Buffer.alloc(16), age: 1 }, []);
    expect(info).toMatchObject({ ok: false, problem: 'mismatch' });
    for (let cut = 0; cut < real.length; cut += 997) {
      const r = openPdb(real.subarray(0, cut), identity, []);
      expect(r.ok).toBe(false);
    }
  });
});
