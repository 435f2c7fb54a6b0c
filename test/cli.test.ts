import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/toolchain.js';
import { buildFixture } from './fixtures/build.js';
import { runCli } from './helpers/cli.js';

let dir: string;
let clean: string;
let legacy: string;
let initRwx: string;

beforeAll(async () => {
  dir = tempDir('cli');
  clean = await buildFixture('clean-x64');
  legacy = await buildFixture('legacy-x64');
  initRwx = await buildFixture('init-rwx-x64');
});

describe('exit codes', () => {
  it('0 for a clean driver', async () => {
    const r = await runCli(['check', clean]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/1 file checked, 0 errors/);
  });

  it('1 for a driver with error-level findings, one line per finding', async () => {
    const r = await runCli(['check', legacy]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/: error wx-section: section \.data is writable and executable/);
    expect(r.stdout).toMatch(/: error nx-compat: /);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('0 for warnings only, 1 with --strict', async () => {
    expect((await runCli(['check', initRwx])).exitCode).toBe(0);
    expect((await runCli(['check', '--strict', initRwx])).exitCode).toBe(1);
  });

  it('--rule turns a rule off for one run', async () => {
    const noNx = await buildFixture('no-nx-x64');
    expect((await runCli(['check', noNx])).exitCode).toBe(1);
    expect((await runCli(['check', '--rule', 'nx-compat=off', noNx])).exitCode).toBe(0);
  });

  it('2 with one line and no stack trace for bad usage', async () => {
    for (const args of [
      ['check', '--bogus', clean],
      ['check', '--rule', 'nope=error', clean],
      ['check', '--rule', 'wx-section=loud', clean],
      ['check', '--format', 'xml', clean],
      ['check'],
      ['frobnicate'],
      ['explain', 'nope'],
    ]) {
      const r = await runCli(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^hvci-build: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('2 for a missing or malformed input, and the others are still checked', async () => {
    const bad = join(dir, 'truncated.sys');
    writeFileSync(bad, readFileSync(clean).subarray(0, 300));
    const r = await runCli(['check', '--format', 'json', bad, join(dir, 'missing.sys'), legacy]);
    expect(r.exitCode).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.files).toHaveLength(3);
    expect(doc.files[0].findings.map((f: { rule: string }) => f.rule)).toEqual(['malformed']);
    expect(doc.files[1].findings.map((f: { rule: string }) => f.rule)).toEqual(['unreadable']);
    expect(doc.files[2].findings.length).toBeGreaterThan(0);
  });
});

describe('finding files', () => {
  it('searches directories by MZ/PE signature, not by extension', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'sub', 'deeper'), { recursive: true });
    copyFileSync(legacy, join(tree, 'sub', 'deeper', 'driver.bin'));
    copyFileSync(clean, join(tree, 'clean.sys'));
    writeFileSync(join(tree, 'notes.sys'), 'not a driver');
    writeFileSync(join(tree, 'MZonly.exe'), 'MZ but nothing else, and long enough to have an e_lfanew field.....');
    const r = await runCli(['check', '--format', 'json', tree]);
    const paths = JSON.parse(r.stdout).files.map((f: { path: string }) => f.path.replace(/\\/g, '/'));
    expect(paths.sort()).toEqual([join(tree, 'clean.sys'), join(tree, 'sub/deeper/driver.bin')].sort());
    expect(r.exitCode).toBe(1);
  });

  it('expands globs', async () => {
    const r = await runCli(['check', '--format', 'json', '**/*.bin'], { cwd: dir });
    const doc = JSON.parse(r.stdout);
    expect(doc.files.map((f: { path: string }) => f.path)).toEqual(['tree/sub/deeper/driver.bin']);
  });

  it('gives the same results with one and with two worker threads', async () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 150; i++) copyFileSync(i % 3 ? clean : legacy, join(many, `d${String(i).padStart(3, '0')}.sys`));
    const one = await runCli(['check', '--format', 'json', '-j', '1', many]);
    const two = await runCli(['check', '--format', 'json', '-j', '2', many]);
    expect(JSON.parse(two.stdout)).toEqual(JSON.parse(one.stdout));
    expect(JSON.parse(one.stdout).summary.files).toBe(150);
  });
});

describe('output', () => {
  it('--output writes the report to a file', async () => {
    const out = join(dir, 'report.json');
    const r = await runCli(['check', '-f', 'json', '-o', out, legacy]);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).version).toBe(1);
    // build's name for it works in check too.
    const same = join(dir, 'report-same.json');
    const r2 = await runCli(['check', '-f', 'json', '--report', same, legacy]);
    expect(r2.stdout).toBe('');
    expect(JSON.parse(readFileSync(same, 'utf8')).files).toEqual(JSON.parse(readFileSync(out, 'utf8')).files);
  });

  it('colour only on request of a TTY, never with NO_COLOR', async () => {
    const r = await runCli(['check', legacy], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('rules and explain', async () => {
    const rules = await runCli(['rules']);
    expect(rules.exitCode).toBe(0);
    for (const id of ['wx-section', 'init-rwx', 'iat-in-exec', 'straddling-reloc', 'malformed']) expect(rules.stdout).toContain(id);
    const explain = await runCli(['explain', 'iat-in-exec']);
    expect(explain.stdout).toMatch(/How to fix:/);
    expect(explain.stdout).toMatch(/MERGE/);
  });
});
