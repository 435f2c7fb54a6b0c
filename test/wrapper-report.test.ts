/**
 * The wrappers' reports tell the truth about a build: a refused flag, a failed compile or link
 * and every image's findings reach the chosen format and the report file, which the links of
 * one build share, and which `build` writes even when nothing was rebuilt.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, NODE } from './helpers/cli.js';
import { githubConfig, validate } from './helpers/sarif-multitool.js';
import { compileFixture, DRIVER_FLAGS, importLib, tempDir } from './helpers/toolchain.js';

// Tools that cannot run: a build that needs to compile or link fails.
const NO_TOOLS = { HVCI_CLANG_CL: '/nonexistent/clang-cl', HVCI_LLD_LINK: '/nonexistent/lld-link', HVCI_LLVM_LIB: '/nonexistent/llvm-lib' };

/** A project made by `init`, with `ldflags` added to its build section. */
async function project(name: string, ldflags: string[] = []): Promise<string> {
  const dir = tempDir(name);
  const init = await runCli(['init', '--name', 'drv'], { cwd: dir });
  expect(init.exitCode, init.stderr).toBe(0);
  if (ldflags.length > 0) setLdflags(dir, ldflags);
  return dir;
}

function setLdflags(dir: string, ldflags: string[]): void {
  const file = join(dir, 'hvci.config.ts');
  const text = readFileSync(file, 'utf8').replace(/\n {4}ldflags: .*/, '');
  writeFileSync(file, text.replace("arch: 'x64',", `arch: 'x64',\n    ldflags: [${ldflags.map((f) => `'${f}'`).join(', ')}],`));
}

/** The 1-based line of the first line of `file` that holds `text`. */
function lineOf(file: string, text: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}

function json(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Validates with the multitool, GitHub code scanning rules included; returns the errors. */
function sarifErrors(path: string): unknown[] {
  const { results } = validate(path, ['--config', githubConfig(`${path}.github.xml`), '--rule-kind', 'Sarif;Ghas']);
  return results.filter((r) => r.level === 'error');
}

describe('a flag refused from the config', () => {
  it('is a SARIF result at the config key and line, an ::error annotation and a JSON entry, exit 2; the passing report before it is replaced', async () => {
    const dir = await project('wr-refused');
    const report = join(dir, 'reports', 'hvci.sarif');
    const first = await runCli(['build', '-f', 'sarif', '-o', 'reports/hvci.sarif'], { cwd: dir });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(json(report).runs[0].artifacts.map((a: any) => a.location.uri)).toEqual(['build/drv.sys']);

    setLdflags(dir, ['/section:.data,rwe']);
    const line = lineOf(join(dir, 'hvci.config.ts'), '/section:.data,rwe');
    expect(line).toBeGreaterThan(1);
    const r = await runCli(['build', '-f', 'sarif', '-o', 'reports/hvci.sarif'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/error: \/section:\.data,rwe makes section \.data writable and executable \(rule wx-section\) \(from hvci\.config\.ts:\d+, build\.ldflags\[0\]\)/);
    const doc = json(report);
    const run = doc.runs[0];
    // Nothing was linked: the earlier image's results are gone, the refusal is the one result.
    expect(run.artifacts).toEqual([]);
    expect(run.results).toHaveLength(1);
    expect(run.results[0]).toMatchObject({
      ruleId: 'wx-section',
      level: 'error',
      message: { text: '/section:.data,rwe makes section .data writable and executable' },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: 'hvci.config.ts', uriBaseId: 'SRCROOT' }, region: { startLine: line } },
          logicalLocations: [{ fullyQualifiedName: 'build.ldflags[0]' }],
        },
      ],
      properties: { refusal: 'section-wx', args: { flag: '/section:.data,rwe', section: '.data' } },
    });
    expect(run.tool.driver.rules[run.results[0].ruleIndex].id).toBe('wx-section');
    expect(run.invocations[0].executionSuccessful).toBe(true);
    expect(sarifErrors(report)).toEqual([]);

    const gh = await runCli(['build', '-f', 'github'], { cwd: dir });
    expect(gh.exitCode).toBe(2);
    expect(gh.stdout).toBe(
      `::error file=hvci.config.ts,line=${line},title=hvci-build wx-section::/section:.data,rwe makes section .data writable and executable (build.ldflags[0])`,
    );

    const js = await runCli(['build', '-f', 'json'], { cwd: dir });
    expect(js.exitCode).toBe(2);
    const out = JSON.parse(js.stdout);
    expect(out.summary.errors).toBe(1);
    expect(out.problems).toEqual([
      {
        kind: 'refusal',
        id: 'section-wx',
        rule: 'wx-section',
        severity: 'error',
        message: '/section:.data,rwe makes section .data writable and executable',
        location: { file: 'hvci.config.ts', line, key: 'build.ldflags[0]' },
        args: { flag: '/section:.data,rwe', section: '.data' },
      },
    ]);
  }, 180_000);

  it('from a response file: located at its line; a refusal of no image rule is link-flag-refused', async () => {
    const work = tempDir('wr-rsp');
    const [obj, lib] = await Promise.all([compileFixture('clean.c', join(work, 'obj')), importLib(join(work, 'obj'))]);
    writeFileSync(join(work, 'flags.rsp'), '/nologo\n/merge:.data=.text\n/merge:nopair\n');
    const r = await runCli(['link', '--format', 'sarif', '--report', 'out/link.sarif', ...DRIVER_FLAGS, obj, lib, '@flags.rsp', '/out:build/drv.sys'], {
      cwd: work,
    });
    expect(r.exitCode).toBe(2);
    const report = join(work, 'out', 'link.sarif');
    const run = json(report).runs[0];
    const byRule = Object.fromEntries(run.results.map((x: any) => [x.ruleId, x]));
    expect(Object.keys(byRule).sort()).toEqual(['link-flag-refused', 'wx-section']);
    expect(byRule['wx-section'].locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'flags.rsp', uriBaseId: 'SRCROOT' }, region: { startLine: 2 } });
    expect(byRule['link-flag-refused'].message.text).toBe("/merge:nopair: 'nopair' is not from=to");
    expect(byRule['link-flag-refused'].locations[0].physicalLocation.region).toEqual({ startLine: 3 });
    expect(run.tool.driver.rules[byRule['link-flag-refused'].ruleIndex].id).toBe('link-flag-refused');
    expect(sarifErrors(report)).toEqual([]);
    // The rule a report names is one explain knows.
    const explain = await runCli(['explain', 'link-flag-refused']);
    expect(explain.exitCode).toBe(0);
    expect(explain.stdout).toContain(run.tool.driver.rules[byRule['link-flag-refused'].ruleIndex].help.text.slice(0, 40));
  }, 120_000);
});

describe('a failed step', () => {
  it('a compile error: a SARIF tool notification, executionSuccessful false, ::error at the source line, exit 1; fixed, the report passes', async () => {
    const dir = await project('wr-compile');
    writeFileSync(join(dir, 'src', 'extra.c'), 'int Broken(void) { return ; }\n');
    const r = await runCli(['build', '-f', 'sarif', '-o', 'hvci.sarif'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const report = join(dir, 'hvci.sarif');
    const inv = json(report).runs[0].invocations[0];
    expect(inv.executionSuccessful).toBe(false);
    expect(inv.toolExecutionNotifications).toHaveLength(1);
    const n = inv.toolExecutionNotifications[0];
    expect(n.level).toBe('error');
    expect(n.descriptor.id).toBe('compile-failed');
    expect(n.message.text).toMatch(/^clang-cl\S* exited with code 1 compiling src\/extra\.c:\n.*extra\.c\(1,\d+\): error: non-void function 'Broken' should return a value/);
    expect(n.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'src/extra.c', uriBaseId: 'SRCROOT' }, region: { startLine: 1 } });
    expect(json(report).runs[0].results).toEqual([]);
    expect(sarifErrors(report)).toEqual([]);

    const gh = await runCli(['build', '-f', 'github'], { cwd: dir });
    expect(gh.exitCode).toBe(1);
    expect(gh.stdout).toMatch(/^::error file=src\/extra\.c,line=1,title=hvci-build compile-failed::clang-cl\S* exited with code 1 compiling src\/extra\.c:%0A.*non-void function/);

    writeFileSync(join(dir, 'src', 'extra.c'), 'int Fixed(void) { return 1; }\n');
    const fixed = await runCli(['build', '-f', 'sarif', '-o', 'hvci.sarif'], { cwd: dir });
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    const after = json(report).runs[0];
    expect(after.invocations[0].executionSuccessful).toBe(true);
    expect(after.invocations[0].toolExecutionNotifications.every((x: any) => x.level === 'note')).toBe(true);
    expect(after.artifacts.map((a: any) => a.location.uri)).toEqual(['build/drv.sys']);
  }, 180_000);

  it('cc with HVCI_REPORT: a compile error goes into the shared report and a passing compile takes it out', async () => {
    const work = tempDir('wr-cc');
    const src = join(work, 'bad.c');
    writeFileSync(src, 'int Broken(void) { return ; }\n');
    const env = { HVCI_REPORT: join(work, 'report.json'), HVCI_FORMAT: 'json' };
    const cc = ['cc', '/nologo', '/c', '/kernel', '--target=x86_64-pc-windows-msvc', `/Fo${join(work, 'bad.obj')}`, '--', src];
    const bad = await runCli(cc, { cwd: work, env });
    expect(bad.exitCode).toBe(1);
    // The compiler's message is still on stderr, as without a report.
    expect(bad.stderr).toMatch(/error: non-void function 'Broken'/);
    const doc = json(env.HVCI_REPORT);
    expect(doc.problems).toHaveLength(1);
    expect(doc.problems[0]).toMatchObject({ kind: 'failure', id: 'compile-failed', location: { file: 'bad.c', line: 1 }, args: { exitCode: 1, source: 'bad.c' } });
    writeFileSync(src, 'int Fixed(void) { return 1; }\n');
    const good = await runCli(cc, { cwd: work, env });
    expect(good.exitCode, good.stderr).toBe(0);
    expect(json(env.HVCI_REPORT).problems).toBeUndefined();
  }, 120_000);

  it('a link error: tool, exit code and the linker message, as a SARIF notification and JSON', async () => {
    const work = tempDir('wr-linkfail');
    const obj = await compileFixture('clean.c', join(work, 'obj'));
    // No import library: the DDIs the driver calls are undefined symbols.
    const r = await runCli(['link', '--format', 'sarif', '--report', 'link.sarif', ...DRIVER_FLAGS, obj, '/out:drv.sys'], { cwd: work });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/undefined symbol/);
    const inv = json(join(work, 'link.sarif')).runs[0].invocations[0];
    expect(inv.executionSuccessful).toBe(false);
    expect(inv.toolExecutionNotifications[0].descriptor.id).toBe('link-failed');
    expect(inv.toolExecutionNotifications[0].message.text).toMatch(new RegExp(`^lld-link\\S* exited with code ${r.exitCode} linking drv\\.sys:\\n.*undefined symbol`));
    const js = await runCli(['link', '--format', 'json', ...DRIVER_FLAGS, obj, '/out:drv.sys'], { cwd: work });
    expect(JSON.parse(js.stdout).problems[0]).toMatchObject({ kind: 'failure', id: 'link-failed', args: { exitCode: r.exitCode } });
  }, 120_000);

  it('a broken config or a missing tool is in the report; once fixed, it is gone', async () => {
    const dir = await project('wr-stop');
    const config = join(dir, 'hvci.config.ts');
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, good.replace("arch: 'x64',", "arch: 'mips',"));
    const broken = await runCli(['build', '-f', 'json', '-o', 'r.json'], { cwd: dir });
    expect(broken.exitCode).toBe(2);
    expect(json(join(dir, 'r.json')).problems).toEqual([
      expect.objectContaining({ kind: 'failure', id: 'could-not-run', message: expect.stringMatching(/build\.arch: must be one of x64, x86, arm64, not 'mips'/) }),
    ]);
    writeFileSync(config, good);
    const missing = await runCli(['build', '-f', 'json', '-o', 'r.json'], { cwd: dir, env: NO_TOOLS });
    expect(missing.exitCode).toBe(2);
    expect(json(join(dir, 'r.json')).problems).toEqual([expect.objectContaining({ id: 'could-not-run', message: expect.stringMatching(/^cannot run \/nonexistent\//) })]);
    const fixed = await runCli(['build', '-f', 'json', '-o', 'r.json'], { cwd: dir });
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    const doc = json(join(dir, 'r.json'));
    expect(doc.problems).toBeUndefined();
    expect(doc.files.map((f: any) => f.path)).toEqual(['build/drv.sys']);
  }, 180_000);

  it('run: a build command that fails outside the wrappers still fails the report', async () => {
    const work = tempDir('wr-run');
    const r = await runCli(['run', '--format', 'json', '--report', 'r.json', '--', 'sh', '-c', 'exit 3'], { cwd: work });
    expect(r.exitCode).toBe(3);
    expect(json(join(work, 'r.json')).problems).toEqual([
      expect.objectContaining({ kind: 'failure', id: 'command-failed', message: 'the build command sh -c exit 3 exited with code 3' }),
    ]);
  });
});

describe('a report shared by the links of one build', () => {
  let work: string;
  let clean: string;
  let straddle: string;
  let lib: string;

  beforeAll(async () => {
    work = tempDir('wr-make');
    [clean, straddle, lib] = await Promise.all([
      compileFixture('clean.c', join(work, 'src-obj')),
      compileFixture('straddle.c', join(work, 'src-obj')),
      importLib(join(work, 'src-obj')),
    ]);
  }, 120_000);

  it('make -j: every image is in the report; a relink replaces only its own results', async () => {
    const names = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
    mkdirSync(join(work, 'obj'), { recursive: true });
    for (const n of names) copyFileSync(n === 'd6' ? straddle : clean, join(work, 'obj', `${n}.obj`));
    writeFileSync(
      join(work, 'Makefile'),
      [
        `all: ${names.map((n) => `build/${n}.sys`).join(' ')}`,
        'build/%.sys: obj/%.obj',
        `\t@"${NODE}" "${BIN}" link ${DRIVER_FLAGS.join(' ')} $< "${lib}" /out:$@`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(work, 'build'), { recursive: true });
    const env = { ...process.env, NO_COLOR: '1', HVCI_REPORT: join(work, 'report.sarif'), HVCI_FORMAT: 'sarif' };
    const make = (): Promise<{ exitCode?: number; stderr: string }> =>
      execa('make', ['-k', '-j6'], { cwd: work, env, reject: false, stdin: 'ignore' }) as Promise<{ exitCode?: number; stderr: string }>;

    const first = await make();
    expect(first.exitCode).not.toBe(0); // d6 is rejected
    const run = json(env.HVCI_REPORT).runs[0];
    expect(run.artifacts.map((a: any) => a.location.uri).sort()).toEqual(names.map((n) => `build/${n}.sys`));
    const errors = run.results.filter((x: any) => x.level === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors.map((x: any) => run.artifacts[x.locations[0].physicalLocation.artifactLocation.index].location.uri))).toEqual(new Set(['build/d6.sys']));
    expect(sarifErrors(env.HVCI_REPORT)).toEqual([]);
    // The lock of the report is gone.
    expect(existsSync(`${env.HVCI_REPORT}.hvci-lock`)).toBe(false);

    // d6 fixed: only it relinks; the report keeps the other five and has no error left.
    copyFileSync(clean, join(work, 'obj', 'd6.obj'));
    const second = await make();
    expect(second.exitCode, second.stderr).toBe(0);
    const after = json(env.HVCI_REPORT).runs[0];
    expect(after.artifacts.map((a: any) => a.location.uri).sort()).toEqual(names.map((n) => `build/${n}.sys`));
    expect(after.results.filter((x: any) => x.level === 'error')).toEqual([]);
  }, 180_000);
});

describe('build --report with nothing to rebuild', () => {
  it('writes the report from the image last results, kept in the build state', async () => {
    const dir = await project('wr-uptodate');
    const first = await runCli(['build', '-f', 'json', '-o', 'hvci.json'], { cwd: dir });
    expect(first.exitCode, first.stderr).toBe(0);
    const before = json(join(dir, 'hvci.json'));
    expect(before.files.map((f: any) => f.path)).toEqual(['build/drv.sys']);
    rmSync(join(dir, 'hvci.json'));
    // The tools cannot run: nothing is rebuilt.
    const again = await runCli(['build', '--format', 'json', '--output', 'hvci.json'], { cwd: dir, env: NO_TOOLS });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/is up to date/);
    expect(json(join(dir, 'hvci.json'))).toEqual(before);
    const gh = await runCli(['build', '-f', 'github', '--include-notes'], { cwd: dir, env: NO_TOOLS });
    expect(gh.stdout).toMatch(/^::notice file=build\/drv\.sys,title=hvci-build affected-ddi-import::/m);
    expect((await runCli(['build', '-f', 'github'], { cwd: dir, env: NO_TOOLS })).stdout).toBe('');
  }, 180_000);
});

describe('--include-notes for the link wrapper', () => {
  it('notes are annotations only when asked for, as in check', async () => {
    const work = tempDir('wr-notes');
    const [obj, lib] = await Promise.all([compileFixture('clean.c', join(work, 'obj')), importLib(join(work, 'obj'))]);
    const link = (extra: string[], env: Record<string, string> = {}) => runCli(['link', ...extra, ...DRIVER_FLAGS, obj, lib, '/out:drv.sys'], { cwd: work, env });
    const quiet = await link(['--format', 'github']);
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('');
    const notes = await link(['--format', 'github', '--include-notes']);
    expect(notes.stdout).toMatch(/^::notice file=drv\.sys,title=hvci-build affected-ddi-import::/m);
    expect((await link([], { HVCI_FORMAT: 'github', HVCI_INCLUDE_NOTES: '1' })).stdout).toBe(notes.stdout);
    // Text: the build log shows notes only when asked for.
    expect((await link([])).stderr).not.toMatch(/affected-ddi-import/);
    expect((await link(['--include-notes'])).stderr).toMatch(/note affected-ddi-import/);
  }, 120_000);
});

describe("build takes check's names for the same options", () => {
  it('-o/--output, --quiet, --max-warnings, --strict, --rule, --min-windows, --color/--no-color', async () => {
    const dir = await project('wr-options');
    const config = join(dir, 'hvci.config.ts');
    // The clean driver's inventory note made a warning: one warning to gate on.
    writeFileSync(config, readFileSync(config, 'utf8').replace("// 'affected-ddi-import': 'off',", "'affected-ddi-import': 'warning',"));
    const built = await runCli(['build', '-f', 'json', '-o', 'all.json'], { cwd: dir });
    expect(built.exitCode, built.stderr).toBe(0);
    expect(json(join(dir, 'all.json')).files[0].findings.map((f: any) => f.severity)).toEqual(['warning']);
    const quiet = await runCli(['build', '--quiet', '--format', 'json', '--output', 'quiet.json'], { cwd: dir, env: NO_TOOLS });
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(json(join(dir, 'quiet.json')).files[0].findings).toEqual([]);

    const over = await runCli(['build', '--max-warnings', '0'], { cwd: dir, env: NO_TOOLS });
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toMatch(/^hvci-build: 1 warning, more than --max-warnings 0$/m);
    expect((await runCli(['build', '--max-warnings', '1'], { cwd: dir, env: NO_TOOLS })).exitCode).toBe(0);
    expect((await runCli(['build', '--max-warnings', 'x'], { cwd: dir, env: NO_TOOLS })).exitCode).toBe(2);

    // The rules of this run: an override or --strict makes the warning an error, and the image is set aside.
    const ruled = await runCli(['build', '--rule', 'affected-ddi-import=error', '-f', 'json'], { cwd: dir });
    expect(ruled.exitCode).toBe(1);
    expect(JSON.parse(ruled.stdout).files[0].findings.map((f: any) => f.severity)).toEqual(['error']);
    expect(existsSync(join(dir, 'build', 'drv.sys.rejected'))).toBe(true);
    expect((await runCli(['build', '--strict'], { cwd: dir })).exitCode).toBe(1);
    expect((await runCli(['build', '--min-windows', '1703'], { cwd: dir })).exitCode).toBe(0);
    const bad = await runCli(['build', '--min-windows', 'vista'], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^hvci-build: --min-windows 'vista' is not /);

    // The build log (a relink, so the findings are shown): colour as asked, the last flag winning.
    const ansi = /\x1b\[/;
    rmSync(join(dir, 'build', 'drv.sys'));
    const colored = await runCli(['build', '--no-color', '--color'], { cwd: dir });
    expect(colored.stderr).toMatch(/warning.*affected-ddi-import/);
    expect(colored.stderr).toMatch(ansi);
    rmSync(join(dir, 'build', 'drv.sys'));
    const plain = await runCli(['build', '--color', '--no-color'], { cwd: dir, env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(plain.stderr).toMatch(/warning.*affected-ddi-import/);
    expect(plain.stderr).not.toMatch(ansi);
  }, 180_000);
});
