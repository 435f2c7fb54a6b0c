import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { checkFiles } from '../src/check-files.js';
import { imageSymbols } from '../src/symbols/index.js';
import { readCodeView } from '../src/pe/debug-directory.js';
import { FINDINGS_PER_RULE, capFindings } from '../src/findings-cap.js';
import type { Finding } from '../src/findings.js';
import { parseHeaders } from '../src/pe/headers.js';
import type { ParseSkip } from '../src/pe/image.js';
import { parseImports } from '../src/pe/imports.js';
import { walkRelocations } from '../src/pe/relocations.js';
import { bufferSource } from '../src/pe/source.js';
import { escapeControls, escapeInvalidUtf8 } from '../src/escape.js';
import { githubReporter } from '../src/report/github.js';
import { makeReport } from '../src/report/summary.js';
import { textReporter } from '../src/report/text.js';
import { buildFixture } from './fixtures/build.js';
import { tempDir } from './helpers/toolchain.js';
import { measureCli } from './hostile/cases.js';
import { hostilePdbs, namedSections, sharedImportTable, straddlingRelocations } from './hostile/generate.js';

const rules = (fs: readonly Finding[]): string[] => fs.map((f) => f.rule);

describe('import descriptors sharing lookup tables', () => {
  it('1,600 descriptors on one table of 16,000 names: no exception, the rest named in a skipped-check note', () => {
    const bytes = sharedImportTable(1600, 16000);
    const r = checkImage(bytes, { rules: { 'affected-ddi-import': 'off' } });
    expect(rules(r.findings)).toEqual(['skipped-check']);
    expect(r.findings[0]!.message).toBe(
      `imports of import descriptors 2 to 1600 (of 1600) not checked: the descriptors name more imports than a ${bytes.length}-byte image can hold (${Math.floor(bytes.length / 8)} thunks), so their lookup tables are shared or overlap`,
    );
  });

  it('reads a shared table once per descriptor that fits: 3 descriptors on one table of 10 give 3 modules, no note', () => {
    const bytes = sharedImportTable(3, 10);
    const skipped: ParseSkip[] = [];
    const src = bufferSource(bytes);
    const modules = parseImports(src, parseHeaders(src), skipped);
    expect(modules.map((m) => m.functions.length)).toEqual([10, 10, 10]);
    expect(modules[2]!.functions[9]!.name).toBe('ExAllocatePoolWithTag');
    expect(skipped).toEqual([]);
  });

  it('the budget is the file size over the thunk size: descriptors stop at the first one past it', () => {
    // 161,792 bytes hold 20,224 thunks: one table of 16,000 fits once, not twice.
    const src = bufferSource(sharedImportTable(1600, 16000));
    const skipped: ParseSkip[] = [];
    const modules = parseImports(src, parseHeaders(src), skipped);
    expect(modules).toHaveLength(1);
    expect(modules[0]!.functions).toHaveLength(16000);
    expect(skipped).toHaveLength(1);
  });

  it('the call-site rules still read the imports that fit', () => {
    const r = checkImage(sharedImportTable(1600, 16000));
    expect(rules(r.findings)).toContain('affected-ddi-import');
  });
});

describe('findings cap', () => {
  it('2,000,000 straddling relocations: walked in full, 100 kept, the total counted', () => {
    const src = bufferSource(straddlingRelocations(2_000_000));
    const s = walkRelocations(src, parseHeaders(src));
    expect(s.entries).toBe(2_000_000);
    expect(s.straddlingTotal).toBe(2_000_000);
    expect(s.straddling).toHaveLength(FINDINGS_PER_RULE);
  });

  it('150 straddling relocations give 100 errors and one note with the total; the severity stays error', () => {
    const r = checkImage(straddlingRelocations(150));
    expect(r.findings.filter((f) => f.rule === 'straddling-reloc' && f.severity === 'error')).toHaveLength(100);
    const note = r.findings.filter((f) => f.rule === 'skipped-check');
    expect(note).toHaveLength(1);
    expect(note[0]!.args).toMatchObject({ rule: 'straddling-reloc', shown: 100, total: 150 });
    expect(note[0]!.message).toBe('only the first 100 of 150 straddling-reloc findings are listed; the other 50 were counted, not listed');
  });

  it('exactly 100 are all listed, with no note', () => {
    const r = checkImage(straddlingRelocations(100));
    expect(rules(r.findings)).toEqual(new Array(100).fill('straddling-reloc'));
  });

  it('the note follows the run policy (--rule skipped-check=off drops it, not the cap)', () => {
    const r = checkImage(straddlingRelocations(150), { rules: { 'skipped-check': 'off' } });
    expect(rules(r.findings)).toEqual(new Array(100).fill('straddling-reloc'));
  });

  it('caps any rule in place, keeping order, and counts per rule', () => {
    const f = (rule: string, i: number): Finding => ({ rule, severity: 'warning', message: `${rule} ${i}`, args: { i } });
    const findings = [...Array.from({ length: 250 }, (_, i) => f('a', i)), f('b', 0), ...Array.from({ length: 101 }, (_, i) => f('c', i))];
    const notes: unknown[] = [];
    capFindings(findings, (d) => void notes.push([d.messageId, d.args.rule, d.args.shown, d.args.total, d.args.rest]));
    expect(findings.map((x) => x.message)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => `a ${i}`),
      'b 0',
      ...Array.from({ length: 100 }, (_, i) => `c ${i}`),
    ]);
    expect(notes).toEqual([
      ['findings-cap', 'a', 100, 250, 150],
      ['findings-cap', 'c', 100, 101, 1],
    ]);
  });
});

describe('a hostile PDB next to the image', () => {
  let dir: string;
  let image: string;
  beforeAll(async () => {
    dir = tempDir('hostile-pdb');
    image = join(dir, 'drv.sys');
    copyFileSync(await buildFixture('callsite-debug-x64'), image);
  });

  const namesWith = (pdb: Buffer | undefined): number => {
    // Under both names the lookup tries: the CodeView record's and the image's stem.
    for (const name of ['drv.pdb', 'callsite-debug-x64.pdb']) {
      if (pdb) writeFileSync(join(dir, name), pdb);
    }
    const src = bufferSource(readFileSync(image));
    const h = parseHeaders(src);
    const names = imageSymbols(image, h, readCodeView(src, h));
    let found = 0;
    for (let rva = h.sections[0]!.virtualAddress; rva < h.sections[0]!.virtualAddress + 0x400; rva += 4) if (names.functionAt(rva)) found++;
    return found;
  };

  it('the real PDB gives names (the control)', async () => {
    const real = (await buildFixture('callsite-debug-x64')).replace(/\.sys$/, '.pdb');
    expect(namesWith(readFileSync(real))).toBeGreaterThan(10);
  });

  for (const [name, pdb] of Object.entries(hostilePdbs())) {
    it(`${name}: no names, no exception; a skipped-check note says the PDB is damaged`, () => {
      expect(namesWith(pdb)).toBe(0);
      const notes = checkImage(image).findings.filter((f) => f.rule === 'skipped-check');
      expect(notes.map((f) => f.message)).toEqual([expect.stringMatching(/^the PDB .*\.pdb is damaged \(.+\): it was not used/)]);
    });
  }

  it('a PDB that claims a 4 GiB directory: checkImage gives its findings without names', () => {
    namesWith(hostilePdbs()['directory-4gib']);
    const r = checkImage(image);
    const pool = r.findings.filter((f) => f.rule === 'exec-pool-type');
    expect(pool.length).toBeGreaterThan(5);
    for (const f of pool) expect(f.message).not.toMatch(/\+0x[0-9A-F]+\)\)$/);
  });
});

describe('files that are not regular files', () => {
  let dir: string;
  let server: Server;
  beforeAll(async () => {
    dir = tempDir('hostile-files');
    execFileSync('mkfifo', [join(dir, 'pipe.sys')]);
    server = createServer();
    await new Promise<void>((done) => server.listen(join(dir, 'sock.sys'), done));
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  for (const [what, arg, message] of [
    ['a FIFO', 'pipe.sys', 'pipe.sys: is a FIFO'],
    ['a socket', 'sock.sys', 'sock.sys: is a socket'],
    ['a device', '/dev/null', '/dev/null: is a character device'],
  ] as const) {
    it(`${what} named on the command line is refused with exit 2 and one line`, async () => {
      const r = await measureCli(['check', arg], dir, 10_000);
      expect(r.timedOut).toBe(false);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`hvci-build: ${message}, not a regular file or directory; not read`);
    });
  }

  it('in a directory search, FIFOs and sockets are skipped and the images beside them checked', async () => {
    copyFileSync(await buildFixture('no-nx-x64'), join(dir, 'real.sys'));
    const r = await measureCli(['check', '-f', 'json', '.'], dir, 10_000);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect((JSON.parse(r.stdout) as { files: { path: string }[] }).files.map((f) => f.path)).toEqual(['real.sys']);
  });
});

describe('directory search: bad entries are reported, not dropped', () => {
  let dir: string;
  let clean: string;
  beforeAll(async () => {
    dir = tempDir('hostile-dir');
    clean = await buildFixture('no-nx-x64');
  });
  afterAll(() => {
    // Node's rmSync cannot remove a tree deeper than PATH_MAX; rm -rf can.
    execFileSync('rm', ['-rf', dir]);
  });

  it('a file name that is not valid UTF-8 is checked by its bytes and shown escaped, with a note', async () => {
    const sub = join(dir, 'utf8');
    mkdirSync(sub);
    copyFileSync(clean, Buffer.concat([Buffer.from(`${sub}/bad`), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('é.sys')]));
    copyFileSync(clean, join(sub, 'good.sys'));
    const report = await checkFiles([sub]);
    expect(report.files.map((f) => f.path)).toEqual([`${sub}/bad\\xFF\\xC3(é.sys`, `${sub}/good.sys`]);
    const bad = report.files[0]!;
    expect(rules(bad.findings)).toContain('nx-compat');
    expect(bad.findings.at(-1)!.message).toMatch(/^the file name is not valid UTF-8/);
    expect(rules(report.files[1]!.findings)).toEqual(rules(bad.findings).slice(0, -1));
    expect(report.summary.unchecked).toBe(0);
  });

  it('a glob that meets a name that is not valid UTF-8 reports it as unreadable, naming why, and checks the rest', async () => {
    const sub = join(dir, 'glob');
    mkdirSync(sub);
    copyFileSync(clean, Buffer.concat([Buffer.from(`${sub}/bad`), Buffer.from([0xff]), Buffer.from('.sys')]));
    copyFileSync(clean, join(sub, 'good.sys'));
    const report = await checkFiles(['glob/*.sys'], { cwd: dir });
    expect(report.files.map((f) => [f.path, f.findings.some((x) => x.rule === 'unreadable')])).toEqual([
      [`${sub}/bad\uFFFD.sys`, true],
      [`${sub}/good.sys`, false],
    ]);
    expect(report.files[0]!.findings[0]!.message).toBe('cannot read file: name is not valid UTF-8 (a glob cannot name it; search its directory instead)');
  });

  it('a directory too deep to list (ENAMETOOLONG, which stops root too) is one unreadable finding; the rest is checked', async () => {
    const sub = join(dir, 'deep');
    mkdirSync(sub);
    copyFileSync(clean, join(sub, 'top.sys'));
    // 20 levels of 250-byte names: past PATH_MAX (4096), made step by step with relative
    // paths in a child (a shell's cd gives up past PATH_MAX; vitest workers cannot chdir).
    const make = 'const fs = require("fs"); process.chdir(process.argv[1]); const n = "d".repeat(250); for (let i = 0; i < 20; i++) { fs.mkdirSync(n); process.chdir(n); } fs.copyFileSync(process.argv[2], "deep.sys");';
    execFileSync(process.execPath, ['-e', make, sub, clean]);
    const report = await checkFiles([sub]);
    const unreadable = report.files.filter((f) => f.findings.some((x) => x.rule === 'unreadable'));
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]!.findings[0]!.message).toBe('cannot read file: directory cannot be listed: ENAMETOOLONG');
    expect(report.files.find((f) => f.path === join(sub, 'top.sys'))?.findings.map((f) => f.rule)).toContain('nx-compat');
    expect(report.summary.unchecked).toBe(1);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file and directory (EACCES) are each one unreadable finding (skipped as root: permission bits do not stop root)', async () => {
    const sub = join(dir, 'perm');
    mkdirSync(join(sub, 'locked'), { recursive: true });
    copyFileSync(clean, join(sub, 'secret.sys'));
    copyFileSync(clean, join(sub, 'open.sys'));
    chmodSync(join(sub, 'secret.sys'), 0);
    chmodSync(join(sub, 'locked'), 0);
    try {
      const report = await checkFiles([sub]);
      const byPath = new Map(report.files.map((f) => [f.path, f.findings.map((x) => x.message)]));
      expect(byPath.get(join(sub, 'locked'))).toEqual(['cannot read file: directory cannot be listed: permission denied']);
      expect(byPath.get(join(sub, 'secret.sys'))).toEqual(['cannot read file: permission denied']);
      expect(byPath.get(join(sub, 'open.sys'))).toHaveLength(1);
    } finally {
      chmodSync(join(sub, 'locked'), 0o755);
    }
  });
});

describe('control characters in names', () => {
  it('escapes C0, DEL, C1 and bidirectional controls; leaves other text alone', () => {
    expect(escapeControls('a\x1b[31mb\nc\x7f\x9b\u202eé')).toBe('a\\x1B[31mb\\x0Ac\\x7F\\x9B\\u{202E}é');
    expect(escapeControls('a\r\n\x1b', true)).toBe('a\r\n\\x1B');
  });

  it('escapes the bytes of a name that is not UTF-8, and only those', () => {
    const b = Buffer.concat([Buffer.from('ok/é'), Buffer.from([0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82]), Buffer.from('€')]);
    expect(escapeInvalidUtf8(b)).toBe('ok/é\\xC0\\x80\\xED\\xA0\\x80\\xF4\\x90\\x80\\x80\\xE2\\x82€');
  });

  it('text and github output carry no raw control character from a section or file name', () => {
    const r = checkImage(namedSections(['\x1b[2J\x9b\n']), {}, '/w/a\x1b]0;x\x07\r.sys');
    const report = makeReport([r]);
    const text = textReporter(report, { cwd: '/w', color: false, toolVersion: '' });
    expect(text.split('\n')[0]).toBe('a\\x1B]0;x\\x07\\x0D.sys: error wx-section: section \\x1B[2J\\x9B\\x0A is writable and executable (RWX, characteristics 0xE0000040)');
    const github = githubReporter(report, { cwd: '/w', color: false, toolVersion: '' });
    expect(github).toBe('::error file=a\\x1B]0;x\\x07%0D.sys,title=hvci-build wx-section::section \\x1B[2J\\x9B%0A is writable and executable (RWX, characteristics 0xE0000040)\n');
  });
});
