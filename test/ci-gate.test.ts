/**
 * The CLI as a CI gate: a verdict always (no silent pass on nothing), rejected images kept out
 * of searches, notes that are not alerts, and the command-line conventions of ESLint.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../src/rules/index.js';
import { buildFixture } from './fixtures/build.js';
import { runCli, oneLine } from './helpers/cli.js';
import { compileFixture, DRIVER_FLAGS, importLib, tempDir } from './helpers/toolchain.js';

let dir: string;
let clean: string;
let legacy: string;
let initRwx: string;

beforeAll(async () => {
  dir = tempDir('ci-gate');
  clean = await buildFixture('clean-x64');
  legacy = await buildFixture('legacy-x64');
  initRwx = await buildFixture('init-rwx-x64');
}, 300_000);


describe('a verdict always: an input that finds nothing is exit 2', () => {
  it('a glob that matches no file, a directory without PE images, a glob of files that are not images', async () => {
    const src = join(dir, 'sources');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'driver.c'), 'int x;');
    writeFileSync(join(src, 'notes.sys'), 'not a driver');
    const cases: [string[], RegExp][] = [
      [['nomatch/**/*.sys'], /^hvci-build: glob 'nomatch\/\*\*\/\*\.sys' matches no PE image \(--allow-empty/],
      [['sources'], /^hvci-build: directory 'sources' holds no PE image/],
      [['sources/*.sys'], /^hvci-build: glob 'sources\/\*\.sys' matches no PE image/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['check', ...args], { cwd: dir });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(oneLine(r.stderr)).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('one empty input among good ones still fails the run, and a stale --output is removed', async () => {
    const tree = join(dir, 'one-good');
    mkdirSync(tree, { recursive: true });
    copyFileSync(clean, join(tree, 'clean.sys'));
    const out = join(dir, 'stale.json');
    writeFileSync(out, '{"summary":{"errors":0}}');
    const r = await runCli(['check', '-f', 'json', '-o', out, tree, 'build/*.sys'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/glob 'build\/\*\.sys' matches no PE image/);
    expect(existsSync(out)).toBe(false);
  });

  it('--allow-empty: nothing found is 0 files checked, exit 0', async () => {
    const r = await runCli(['check', '--allow-empty', 'nomatch/**/*.sys', 'sources'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^0 files checked/m);
  });
});

describe('rejected images: reject, fix, relink', () => {
  it('a search skips *.rejected and says so; a passing link removes the stale one', async () => {
    const work = tempDir('ci-reject');
    const [straddle, good, lib] = await Promise.all([
      compileFixture('straddle.c', join(work, 'obj')),
      compileFixture('clean.c', join(work, 'obj')),
      importLib(join(work, 'obj')),
    ]);
    const build = join(work, 'build');
    mkdirSync(build);
    const out = join(build, 'drv.sys');

    const bad = await runCli(['link', ...DRIVER_FLAGS, straddle, lib, `/out:${out}`], { cwd: work });
    expect(bad.exitCode).toBe(1);
    expect(existsSync(`${out}.rejected`)).toBe(true);
    expect(existsSync(out)).toBe(false);

    // Only the rejected image is there: the search skips it, so it finds nothing.
    const only = await runCli(['check', 'build'], { cwd: work });
    expect(only.exitCode).toBe(2);
    expect(oneLine(only.stderr)).toMatch(/directory 'build' holds no PE image/);
    // Named, it is checked like any file.
    expect((await runCli(['check', 'build/drv.sys.rejected'], { cwd: work })).exitCode).toBe(1);

    // Another image beside it: checked, and the skipped one counted.
    copyFileSync(clean, join(build, 'other.sys'));
    const beside = await runCli(['check', 'build'], { cwd: work });
    expect(beside.exitCode).toBe(0);
    expect(beside.stdout).toMatch(/^skipped 1 image a wrapper rejected \(\*\.rejected\)/m);
    const json = await runCli(['check', '-f', 'json', 'build'], { cwd: work });
    const doc = JSON.parse(json.stdout);
    expect(doc.summary.skippedRejected).toBe(1);
    expect(doc.files.map((f: { path: string }) => f.path)).toEqual(['build/other.sys']);

    const fixed = await runCli(['link', ...DRIVER_FLAGS, good, lib, `/out:${out}`], { cwd: work });
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(existsSync(`${out}.rejected`)).toBe(false);
    const after = await runCli(['check', '-f', 'json', 'build'], { cwd: work });
    expect(after.exitCode).toBe(0);
    const afterDoc = JSON.parse(after.stdout);
    expect(afterDoc.summary.skippedRejected).toBe(0);
    expect(afterDoc.files.map((f: { path: string }) => f.path)).toEqual(['build/drv.sys', 'build/other.sys']);
    expect((await runCli(['check', 'build'], { cwd: work })).stdout).not.toMatch(/rejected/);
  }, 120_000);
});

describe('notes are not alerts', () => {
  it('github: a clean driver gets no annotation; --include-notes gives its notes as ::notice', async () => {
    const plain = await runCli(['check', '-f', 'json', clean]);
    const notes = JSON.parse(plain.stdout).files[0].findings.filter((f: { severity: string }) => f.severity === 'note');
    expect(notes.length).toBeGreaterThan(0);
    const gh = await runCli(['check', '-f', 'github', clean]);
    expect(gh.exitCode).toBe(0);
    expect(gh.stdout).toBe('');
    const all = await runCli(['check', '-f', 'github', '--include-notes', clean]);
    expect(all.stdout.trim().split('\n')).toHaveLength(notes.length);
    expect(all.stdout).toMatch(/^::notice file=.*title=hvci-build affected-ddi-import::/m);
  });

  it('sarif: a clean driver has no result unless --include-notes', async () => {
    const doc = JSON.parse((await runCli(['check', '-f', 'sarif', clean])).stdout);
    expect(doc.runs[0].results).toEqual([]);
    expect(doc.runs[0].invocations[0].toolExecutionNotifications.length).toBeGreaterThan(0);
    const all = JSON.parse((await runCli(['check', '-f', 'sarif', '--include-notes', clean])).stdout);
    expect(all.runs[0].results.map((r: { level: string }) => r.level)).toContain('note');
    expect(all.runs[0].invocations[0].toolExecutionNotifications).toBeUndefined();
  });
});

describe('ESLint conventions', () => {
  it('--quiet shows errors only and keeps the exit code', async () => {
    const full = await runCli(['check', legacy, initRwx]);
    expect(full.stdout).toMatch(/: warning init-rwx: /);
    const quiet = await runCli(['check', '--quiet', legacy, initRwx]);
    expect(quiet.exitCode).toBe(1);
    expect(quiet.stdout).toMatch(/: error wx-section: /);
    expect(quiet.stdout).not.toMatch(/: (warning|note) /);
    expect(quiet.stdout).toMatch(/, 0 warnings, 0 notes/);
  });

  it('--max-warnings N: exit 1 only above N', async () => {
    const warnings = JSON.parse((await runCli(['check', '-f', 'json', initRwx])).stdout).summary.warnings;
    expect(warnings).toBeGreaterThan(0);
    expect((await runCli(['check', '--max-warnings', String(warnings), initRwx])).exitCode).toBe(0);
    const over = await runCli(['check', '--max-warnings', String(warnings - 1), initRwx]);
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toMatch(new RegExp(`^hvci-build: ${warnings} warnings?, more than --max-warnings ${warnings - 1}$`, 'm'));
    for (const bad of ['-1', 'x', '1.5', '']) {
      const r = await runCli(['check', `--max-warnings=${bad}`, initRwx]);
      expect(r.exitCode, bad).toBe(2);
      expect(oneLine(r.stderr)).toMatch(/--max-warnings must be a whole number/);
    }
  });

  it('rules --format json lists every rule as data', async () => {
    const r = await runCli(['rules', '--format', 'json']);
    expect(r.exitCode).toBe(0);
    const rules = JSON.parse(r.stdout);
    expect(rules.map((x: { id: string }) => x.id)).toEqual(RULES.map((x) => x.meta.id));
    expect(rules[0]).toEqual({
      id: RULES[0]!.meta.id,
      name: RULES[0]!.meta.name,
      defaultSeverity: RULES[0]!.meta.defaultSeverity,
      summary: RULES[0]!.meta.summary,
      reference: RULES[0]!.meta.reference,
      securitySeverity: RULES[0]!.meta.securitySeverity,
    });
    expect((await runCli(['rules', '--format', 'xml'])).exitCode).toBe(2);
  });

  it('help <command> is <command> --help, and every help has the exit codes', async () => {
    for (const command of ['check', 'build', 'rules', 'explain', 'run', 'init']) {
      const viaHelp = await runCli(['help', command]);
      const viaFlag = await runCli([command, '--help']);
      expect(viaHelp.exitCode, command).toBe(0);
      expect(viaHelp.stdout, command).toBe(viaFlag.stdout);
      expect(viaHelp.stdout, command).toMatch(/^Usage: hvci-build /);
      expect(viaHelp.stdout, command).toMatch(/^Exit codes:\n {2}0 .*\n(.*\n)* {2}2 {2}usage error/m);
    }
    expect((await runCli(['--help'])).stdout).toMatch(/^Exit codes:/m);
  });

  it('did you mean: a mistyped command, option or rule', async () => {
    const cases: [string[], string][] = [
      [['chek', clean], `unknown command 'chek'; did you mean 'check'?`],
      [['biuld'], `unknown command 'biuld'; did you mean 'build'?`],
      [['check', '--formt', 'json', clean], `Unknown option '--formt'; did you mean '--format'?`],
      [['check', '--max-warning', '0', clean], `did you mean '--max-warnings'?`],
      [['build', '--verbos'], `did you mean '--verbose'?`],
      [['check', '--rule', 'wx-sectoin=off', clean], `unknown rule 'wx-sectoin'; did you mean 'wx-section'?`],
      [['explain', 'nx-compta'], `did you mean 'nx-compat'?`],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, { cwd: dir });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(oneLine(r.stderr), args.join(' ')).toContain(message);
    }
    // Nothing close: no guess.
    expect(oneLine((await runCli(['zzzzzzzz'])).stderr)).not.toMatch(/did you mean/);
  });

  it('--output creates missing parent directories', async () => {
    const out = join(dir, 'reports', 'deep', 'hvci.sarif');
    const r = await runCli(['check', '-f', 'sarif', '-o', out, legacy]);
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(readFileSync(out, 'utf8')).runs[0].results.length).toBeGreaterThan(0);
  });

  it('colour: FORCE_COLOR, --color and --no-color; NO_COLOR unless --color', async () => {
    const ansi = /\x1b\[/;
    // runCli sets NO_COLOR=1; '' is unset for NO_COLOR (no-color.org).
    const env = (force: string) => ({ env: { NO_COLOR: '', FORCE_COLOR: force } });
    expect((await runCli(['check', legacy], env('1'))).stdout).toMatch(ansi);
    expect((await runCli(['check', legacy], env('0'))).stdout).not.toMatch(ansi);
    expect((await runCli(['check', legacy], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } })).stdout).not.toMatch(ansi);
    expect((await runCli(['check', '--color', legacy])).stdout).toMatch(ansi);
    expect((await runCli(['check', '--no-color', legacy], env('1'))).stdout).not.toMatch(ansi);
    // The last of the two wins.
    expect((await runCli(['check', '--no-color', '--color', legacy])).stdout).toMatch(ansi);
    expect((await runCli(['check', '--color', '--no-color', legacy])).stdout).not.toMatch(ansi);
  });
});
