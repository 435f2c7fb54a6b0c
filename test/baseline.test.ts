/**
 * Adopting hvci-build on a legacy driver: a baseline of today's findings (only new ones fail,
 * fixed ones are reported) and justified suppressions in the config, on drivers built from C
 * by clang-cl and lld-link, the findings carried through text, JSON and validated SARIF.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../src/toolchain/find-tool.js';
import { checkFiles } from '../src/check-files.js';
import { triage } from '../src/baseline/triage.js';
import { makeBaseline } from '../src/baseline/baseline-file.js';
import { runCli, oneLine } from './helpers/cli.js';
import { githubConfig, validate } from './helpers/sarif-multitool.js';
import { sarifSchema } from './helpers/sarif-schema.js';
import { DRIVER_FLAGS, FIXTURE_INCLUDE, importLib, tempDir } from './helpers/toolchain.js';

/*
 * One driver in three versions. v2 adds a function before the others (so every RVA after it
 * moves) with a new executable allocation; v3 is v1 with AllocMust fixed. Without
 * POOL_NX_OPTIN_AUTO, NonPagedPool is the executable pool.
 */
const HEAD = `#include <ntkm.h>
#define NOINLINE __declspec(noinline)
PVOID volatile g_sink;
`;
const ALLOC_CACHE = `NOINLINE void AllocCache(void) { g_sink = ExAllocatePoolWithTag(NonPagedPoolCacheAligned, 64, 'tseT'); }
NOINLINE void Padding(void) { for (int i = 0; i < 64; i++) g_sink = (PVOID)(ULONG_PTR)(i * 3); }
`;
const ALLOC_EXEC = `NOINLINE void AllocExec(void) { g_sink = ExAllocatePoolWithTag(NonPagedPool, 64, 'tseT'); }
`;
const allocMust = (pool: string): string => `NOINLINE void AllocMust(void) { g_sink = ExAllocatePoolWithTag(${pool}, 32, 'tseT'); }
`;
const entry = (calls: string[]): string => `NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT d, PUNICODE_STRING r) {
  (void)d; (void)r;
  ${calls.map((c) => `${c}();`).join(' ')}
  return STATUS_SUCCESS;
}
`;
const SOURCES = {
  v1: HEAD + ALLOC_EXEC + allocMust('NonPagedPoolMustSucceed') + entry(['AllocExec', 'AllocMust']),
  v2: HEAD + ALLOC_CACHE + ALLOC_EXEC + allocMust('NonPagedPoolMustSucceed') + entry(['AllocCache', 'Padding', 'AllocExec', 'AllocMust']),
  v3: HEAD + ALLOC_EXEC + allocMust('NonPagedPoolNx') + entry(['AllocExec', 'AllocMust']),
};
type Version = keyof typeof SOURCES;

let work: string;
const images = {} as Record<Version, string>;

/** Builds one version with its map file (so call sites are named by function). */
async function buildVersion(v: Version, lib: string): Promise<string> {
  const dir = join(work, 'versions', v);
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'drv.c');
  writeFileSync(src, SOURCES[v]);
  const obj = join(dir, 'drv.obj');
  await execa(requireTool('clang-cl'), ['/nologo', '/c', '/kernel', '/GS-', '/O2', '--target=x86_64-pc-windows-msvc', `/I${FIXTURE_INCLUDE}`, `/Fo${obj}`, '--', src]);
  const out = join(dir, 'drv.sys');
  await execa(requireTool('lld-link'), [...DRIVER_FLAGS, obj, lib, `/out:${out}`, `/map:${join(dir, 'drv.map')}`]);
  return out;
}

/** A project directory with the driver of version v at build/drv.sys (and its map). */
function project(name: string, v: Version, config?: unknown): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'build'), { recursive: true });
  mkdirSync(join(dir, '.git'), { recursive: true });
  install(dir, v);
  if (config !== undefined) writeFileSync(join(dir, 'hvci.config.json'), JSON.stringify(config, null, 2));
  return dir;
}

function install(dir: string, v: Version, at = 'build'): void {
  copyFileSync(images[v], join(dir, at, 'drv.sys'));
  copyFileSync(images[v].replace(/\.sys$/, '.map'), join(dir, at, 'drv.map'));
}

const json = (stdout: string): any => JSON.parse(stdout);
const fns = (findings: { args: { function?: string } }[]): (string | undefined)[] => findings.map((f) => f.args.function).sort();


beforeAll(async () => {
  work = tempDir('baseline');
  mkdirSync(join(work, 'versions'), { recursive: true });
  const lib = await importLib(join(work, 'versions'));
  for (const v of Object.keys(SOURCES) as Version[]) images[v] = await buildVersion(v, lib);
}, 300_000);

describe('the driver versions', () => {
  it('v1 has two executable allocations; v2 a third, and the first two at other RVAs; v3 only one', async () => {
    const run = async (v: Version) => json((await runCli(['check', '-f', 'json', images[v]], { cwd: work })).stdout).files[0].findings.filter((f: any) => f.rule === 'exec-pool-type');
    const [v1, v2, v3] = [await run('v1'), await run('v2'), await run('v3')];
    expect(fns(v1)).toEqual(['AllocExec', 'AllocMust']);
    expect(fns(v2)).toEqual(['AllocCache', 'AllocExec', 'AllocMust']);
    expect(fns(v3)).toEqual(['AllocExec']);
    const rva = (list: any[], fn: string): number => list.find((f) => f.args.function === fn).rva;
    expect(rva(v2, 'AllocExec')).not.toBe(rva(v1, 'AllocExec'));
    expect(rva(v2, 'AllocMust')).not.toBe(rva(v1, 'AllocMust'));
  });
});

describe('baseline', () => {
  it('hvci-build baseline records the findings and exits 0; a check against it passes', async () => {
    const dir = project('record', 'v1');
    const r = await runCli(['baseline', 'build'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^hvci-build: wrote \d+ findings of 1 file to the baseline hvci-baseline\.json$/m);
    const doc = JSON.parse(readFileSync(join(dir, 'hvci-baseline.json'), 'utf8'));
    expect(doc.version).toBe(1);
    const exec = doc.findings.filter((e: any) => e.rule === 'exec-pool-type');
    expect(exec.map((e: any) => [e.path, e.function, e.count])).toEqual(
      expect.arrayContaining([
        ['build/drv.sys', 'AllocExec', 1],
        ['build/drv.sys', 'AllocMust', 1],
      ]),
    );
    // No RVA in what identifies a finding.
    for (const e of doc.findings) expect(Object.keys(e).sort()).toEqual(expect.not.arrayContaining(['rva', 'offset']));

    const plain = await runCli(['check', 'build'], { cwd: dir });
    expect(plain.exitCode).toBe(1);
    const against = await runCli(['check', '--baseline', 'hvci-baseline.json', 'build'], { cwd: dir });
    expect(against.exitCode, against.stdout).toBe(0);
    expect(against.stdout).toMatch(/0 errors, .*\d+ in the baseline, 0 fixed/);
    expect(against.stdout).not.toMatch(/AllocExec/);
  });

  it("hvci-build baseline with no path records the image of the config's build section, in the config's baseline file", async () => {
    const dir = project('from-build', 'v1', { build: { sources: ['src/*.c'], output: 'build/drv.sys' }, baseline: 'ci/hvci-baseline.json' });
    const r = await runCli(['baseline'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'ci', 'hvci-baseline.json'), 'utf8'));
    // Paths are relative to the baseline file's directory.
    expect(new Set(doc.findings.map((e: any) => e.path))).toEqual(new Set(['../build/drv.sys']));
    expect((await runCli(['check', 'build'], { cwd: dir })).exitCode).toBe(0);
    expect((await runCli(['check', '.'], { cwd: join(dir, 'build') })).exitCode).toBe(0);
  });

  it('after a rebuild that moves every RVA and adds one finding, only the new one fails', async () => {
    const dir = project('new-finding', 'v1', { baseline: 'hvci-baseline.json' });
    expect((await runCli(['check', '--write-baseline', 'hvci-baseline.json', 'build'], { cwd: dir })).exitCode).toBe(0);
    install(dir, 'v2');
    const text = await runCli(['check', 'build'], { cwd: dir });
    expect(text.exitCode).toBe(1);
    expect(text.stdout.match(/: error /g)).toHaveLength(1);
    expect(text.stdout).toMatch(/build\/drv\.sys: error exec-pool-type: .*AllocCache/);
    expect(text.stdout).toMatch(/1 error, .*in the baseline, 0 fixed/);

    const doc = json((await runCli(['check', '-f', 'json', 'build'], { cwd: dir })).stdout);
    const errors = doc.files[0].findings.filter((f: any) => f.severity === 'error');
    expect(fns(errors)).toEqual(['AllocCache']);
    expect(errors[0].baselineState).toBe('new');
    expect(doc.baseline.file).toBe('hvci-baseline.json');
    expect(fns(doc.baseline.unchanged.filter((f: any) => f.rule === 'exec-pool-type'))).toEqual(['AllocExec', 'AllocMust']);
    expect(doc.baseline.fixed).toEqual([]);
    expect(doc.summary.errors).toBe(1);

    // GitHub annotations: the new finding only.
    const gh = await runCli(['check', '-f', 'github', 'build'], { cwd: dir });
    expect(gh.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^::error file=build\/drv\.sys,title=hvci-build exec-pool-type::.*AllocCache/)]);

    // --max-warnings counts only the new ones: two baselined warnings and one new.
    const asWarnings = ['check', '--rule', 'exec-pool-type=warning', '--max-warnings', '1', 'build'];
    expect((await runCli(asWarnings, { cwd: dir })).exitCode).toBe(0);
    expect((await runCli([...asWarnings.slice(0, -3), '--max-warnings', '0', 'build'], { cwd: dir })).exitCode).toBe(1);
  });

  it('a fixed finding is reported as fixed, in text and JSON, and the check passes', async () => {
    const dir = project('fixed', 'v1');
    await runCli(['baseline', '--write-baseline', 'base.json', 'build'], { cwd: dir });
    install(dir, 'v3');
    const text = await runCli(['check', '--baseline', 'base.json', 'build'], { cwd: dir });
    expect(text.exitCode, text.stdout).toBe(0);
    expect(text.stdout).toMatch(/^build\/drv\.sys: fixed exec-pool-type: ExAllocatePoolWithTag .*NonPagedPoolMustSucceed.*\(in the baseline, no longer found\)$/m);
    expect(text.stdout).toMatch(/1 fixed/);
    const doc = json((await runCli(['check', '-f', 'json', '--baseline', 'base.json', 'build'], { cwd: dir })).stdout);
    expect(doc.baseline.fixed).toEqual([
      expect.objectContaining({ path: 'build/drv.sys', rule: 'exec-pool-type', severity: 'error', function: 'AllocMust', section: '.text' }),
    ]);
  });

  it('matches an image whose output directory moved, and ignores images the run did not check', async () => {
    const dir = project('moved', 'v1');
    await runCli(['baseline', 'build'], { cwd: dir });
    mkdirSync(join(dir, 'out'));
    renameSync(join(dir, 'build', 'drv.sys'), join(dir, 'out', 'drv.sys'));
    renameSync(join(dir, 'build', 'drv.map'), join(dir, 'out', 'drv.map'));
    const r = await runCli(['check', '-f', 'json', '--baseline', 'hvci-baseline.json', 'out'], { cwd: dir });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(json(r.stdout).baseline.fixed).toEqual([]);
    // A check of another image only: the baseline's findings of drv.sys are not "fixed".
    mkdirSync(join(dir, 'other'));
    copyFileSync(images.v3, join(dir, 'other', 'else.sys'));
    const other = json((await runCli(['check', '-f', 'json', '--baseline', 'hvci-baseline.json', 'other'], { cwd: dir })).stdout);
    expect(other.baseline.fixed).toEqual([]);
    expect(other.files[0].findings.some((f: any) => f.baselineState === 'new' && f.rule === 'exec-pool-type')).toBe(true);
  });

  it('a missing or broken baseline is one line and exit 2, before any check', async () => {
    const dir = project('broken', 'v1');
    writeFileSync(join(dir, 'notjson.json'), '{ "version": 1, ');
    writeFileSync(join(dir, 'v9.json'), '{ "version": 9, "findings": [] }');
    writeFileSync(join(dir, 'badentry.json'), '{ "version": 1, "findings": [{ "path": "a.sys", "rule": "x", "key": "nothex", "count": 1, "severity": "error", "message": "" }] }');
    const cases: [string, RegExp][] = [
      ['missing.json', /^hvci-build: baseline .*missing\.json: cannot read: ENOENT \(make it with hvci-build baseline\)$/],
      ['notjson.json', /^hvci-build: baseline .*notjson\.json: not JSON: /],
      ['v9.json', /^hvci-build: baseline .*v9\.json: version 9 is not 1/],
      ['badentry.json', /^hvci-build: baseline .*badentry\.json: findings\[0\]\.key must be 32 hex digits$/],
    ];
    for (const [file, message] of cases) {
      const r = await runCli(['check', '-f', 'sarif', '--baseline', file, 'build'], { cwd: dir });
      expect(r.exitCode, file).toBe(2);
      expect(oneLine(r.stderr)).toMatch(message);
      expect(r.stdout).toBe('');
    }
    // The config's key is read the same way.
    writeFileSync(join(dir, 'hvci.config.json'), JSON.stringify({ baseline: 'v9.json' }));
    const viaConfig = await runCli(['check', 'build'], { cwd: dir });
    expect(viaConfig.exitCode).toBe(2);
    expect(oneLine(viaConfig.stderr)).toMatch(/v9\.json: version 9 is not 1/);
  });

  it('the stage returns new data and leaves the engine report alone', async () => {
    const dir = project('pure', 'v2');
    const report = await checkFiles([join(dir, 'build')], { cwd: dir });
    const before = structuredClone(report);
    const baseline = makeBaseline(report.files.map((f) => ({ ...f, findings: f.findings.filter((x) => x.args.function !== 'AllocCache') })), join(dir, 'b.json'));
    const out = triage(report, {
      cwd: dir,
      baseline: { file: join(dir, 'b.json'), data: baseline },
      suppress: { file: join(dir, 'hvci.config.json'), dir, list: [{ rule: 'exec-pool-type', function: 'AllocExec', justification: 'freed before return' }] },
    });
    expect(report).toEqual(before);
    expect(out).not.toBe(report);
    expect(fns(out.files[0]!.findings.filter((f) => f.rule === 'exec-pool-type') as any)).toEqual(['AllocCache']);
    expect(out.triage!.suppressed.map((s) => [s.finding.args.function, s.baselineState])).toEqual([['AllocExec', 'unchanged']]);
    expect(out.summary.errors).toBe(1);
  });
});

describe('suppressions', () => {
  const SUPPRESS = [
    { rule: 'exec-pool-type', function: 'AllocExec', justification: 'the page is made read-only before use (PLAT-1234)' },
    { rule: 'wx-section', path: 'build/*.sys', justification: 'old INIT layout' },
  ];

  it('a suppressed finding does not fail, is listed with its justification; one that matches nothing is a note', async () => {
    const dir = project('suppress', 'v1', { suppress: SUPPRESS });
    const text = await runCli(['check', 'build'], { cwd: dir });
    expect(text.exitCode).toBe(1);
    expect(text.stdout.match(/: error /g)).toHaveLength(1);
    expect(text.stdout).toMatch(/build\/drv\.sys: error exec-pool-type: .*AllocMust/);
    expect(text.stdout).toMatch(
      /^build\/drv\.sys: suppressed exec-pool-type: .*AllocExec.* \(suppress\[0\]: the page is made read-only before use \(PLAT-1234\)\)$/m,
    );
    expect(text.stdout).toMatch(/^hvci\.config\.json: note: suppress\[1\] \(rule wx-section, path build\/\*\.sys\) matches no finding: remove it$/m);
    expect(text.stdout).toMatch(/1 suppressed/);

    const doc = json((await runCli(['check', '-f', 'json', 'build'], { cwd: dir })).stdout);
    expect(doc.suppressed).toEqual([
      expect.objectContaining({ path: 'build/drv.sys', rule: 'exec-pool-type', justification: SUPPRESS[0]!.justification, suppression: 'suppress[0]' }),
    ]);
    expect(doc.suppressed[0].args.function).toBe('AllocExec');
    expect(doc.unusedSuppressions).toEqual([
      { file: 'hvci.config.json', suppression: 'suppress[1]', matches: 'rule wx-section, path build/*.sys', justification: 'old INIT layout' },
    ]);
    expect(doc.summary.errors).toBe(1);

    // GitHub: no annotation for the suppressed finding; the unused suppression only with --include-notes.
    const gh = await runCli(['check', '-f', 'github', 'build'], { cwd: dir });
    expect(gh.stdout).not.toMatch(/AllocExec/);
    expect(gh.stdout).not.toMatch(/suppress\[1\]/);
    const ghNotes = await runCli(['check', '-f', 'github', '--include-notes', 'build'], { cwd: dir });
    expect(ghNotes.stdout).toMatch(/^::notice file=hvci\.config\.json,title=hvci-build unused suppression::suppress\[1\] /m);
  });

  it('suppressing every error passes the build', async () => {
    const dir = project('suppress-all', 'v1', { suppress: [{ rule: 'exec-pool-type', justification: 'legacy allocator, tracked in PLAT-1' }] });
    const r = await runCli(['check', 'build'], { cwd: dir });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/0 errors.*2 suppressed/);
  });

  it('path, section and rva narrow a suppression', async () => {
    const doc = json((await runCli(['check', '-f', 'json', images.v1], { cwd: work })).stdout);
    const must = doc.files[0].findings.find((f: any) => f.args.function === 'AllocMust');
    const dir = project('narrow', 'v1', {
      suppress: [
        { rule: 'exec-pool-type', path: 'elsewhere/*.sys', justification: 'other driver' },
        { rule: 'exec-pool-type', path: 'drv.sys', section: 'PAGE', justification: 'wrong section' },
        { rule: 'exec-pool-type', path: 'drv.sys', section: '.text', rva: `0x${must.rva.toString(16)}`, justification: 'by address' },
      ],
    });
    const r = json((await runCli(['check', '-f', 'json', 'build'], { cwd: dir })).stdout);
    expect(r.suppressed.map((s: any) => [s.args.function, s.suppression])).toEqual([['AllocMust', 'suppress[2]']]);
    expect(r.unusedSuppressions.map((u: any) => u.suppression)).toEqual(['suppress[0]', 'suppress[1]']);
  });

  it('a suppression without justification, with an unknown key or for an unchecked file is a config error naming the key', async () => {
    const cases: [unknown, RegExp][] = [
      [[{ rule: 'exec-pool-type' }], /hvci\.config\.json: suppress\[0\]\.justification: is required/],
      [[{ rule: 'exec-pool-type', justification: '  ' }], /suppress\[0\]\.justification: is required/],
      [[{ rule: 'exec-pool-type', justification: 'x', file: 'a' }], /suppress\[0\]\.file: unknown key \(known: rule, path, section, function, rva, justification\)/],
      [[{ justification: 'x' }], /suppress\[0\]\.rule: is required/],
      [[{ rule: 'exec-pool-typ', justification: 'x' }], /suppress\[0\]\.rule: unknown rule 'exec-pool-typ'/],
      [[{ rule: 'malformed', justification: 'x' }], /suppress\[0\]\.rule: 'malformed' cannot be suppressed/],
      [[{ rule: 'exec-pool-type', justification: 'x', rva: 'near the end' }], /suppress\[0\]\.rva: must be a number or a hex string/],
      [{ rule: 'exec-pool-type' }, /hvci\.config\.json: suppress: must be a list/],
    ];
    for (const [suppress, message] of cases) {
      const dir = project('bad-config', 'v1', { suppress });
      const r = await runCli(['check', 'build'], { cwd: dir });
      expect(r.exitCode, JSON.stringify(suppress)).toBe(2);
      expect(oneLine(r.stderr)).toMatch(message);
      rmSync(dir, { recursive: true });
    }
  });
});

describe('SARIF with a baseline and suppressions', () => {
  it('marks results new, unchanged and suppressed, passes the multitool with its GitHub rules', async () => {
    const dir = project('sarif', 'v1', { suppress: [{ rule: 'exec-pool-type', function: 'AllocMust', justification: 'checked by hand' }, { rule: 'nx-compat', justification: 'stale' }] });
    await runCli(['baseline', 'build'], { cwd: dir });
    install(dir, 'v2');
    const out = join(dir, 'report.sarif');
    const r = await runCli(['check', '-f', 'sarif', '-o', out, '--baseline', 'hvci-baseline.json', 'build'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    const results = doc.runs[0].results;
    const byFn = (fn: string): any => results.find((x: any) => x.properties.args.function === fn);
    expect(byFn('AllocCache')).toMatchObject({ baselineState: 'new', suppressions: [] });
    expect(byFn('AllocExec')).toMatchObject({ baselineState: 'unchanged', suppressions: [] });
    expect(byFn('AllocMust')).toMatchObject({ baselineState: 'unchanged', suppressions: [{ kind: 'external', justification: 'checked by hand' }] });
    // SARIF 2.1.0: every result of the run has both properties once any has.
    for (const x of results) {
      expect(x.baselineState).toMatch(/^(new|unchanged)$/);
      expect(Array.isArray(x.suppressions)).toBe(true);
    }
    // The fingerprint is the baseline's key; no RVA in it, so v1's and v2's are equal.
    const base = JSON.parse(readFileSync(join(dir, 'hvci-baseline.json'), 'utf8'));
    const execKey = base.findings.find((e: any) => e.function === 'AllocExec').key;
    expect(byFn('AllocExec').partialFingerprints['hvciLocation/v1']).toBe(execKey);
    const notes = doc.runs[0].invocations[0].toolConfigurationNotifications;
    expect(notes).toHaveLength(1);
    expect(notes[0].message.text).toMatch(/^suppress\[1\] \(rule nx-compat\) matches no finding: remove it$/);
    const configArtifact = doc.runs[0].artifacts[notes[0].locations[0].physicalLocation.artifactLocation.index];
    expect(configArtifact).toEqual({ location: { uri: 'hvci.config.json', uriBaseId: 'SRCROOT' }, roles: ['userSpecifiedConfiguration'] });

    const { results: problems } = validate(out, ['--config', githubConfig(join(dir, 'gh.xml'))]);
    expect(problems.filter((p) => p.level === 'error'), JSON.stringify(problems)).toEqual([]);
    checkEnums(doc);
  }, 120_000);

  it('a fixed finding is an absent result only with --include-notes (code scanning ignores baselineState)', async () => {
    const dir = project('sarif-fixed', 'v1');
    await runCli(['baseline', 'build'], { cwd: dir });
    install(dir, 'v3');
    const quiet = JSON.parse((await runCli(['check', '-f', 'sarif', '--baseline', 'hvci-baseline.json', 'build'], { cwd: dir })).stdout);
    expect(quiet.runs[0].results.filter((x: any) => x.baselineState === 'absent')).toEqual([]);
    const listed = quiet.runs[0].invocations[0].toolExecutionNotifications.filter((n: any) => n.properties.baselineState === 'absent');
    expect(listed.map((n: any) => n.properties.args.function)).toEqual(['AllocMust']);

    const out = join(dir, 'all.sarif');
    await runCli(['check', '-f', 'sarif', '--include-notes', '-o', out, '--baseline', 'hvci-baseline.json', 'build'], { cwd: dir });
    const all = JSON.parse(readFileSync(out, 'utf8'));
    const absent = all.runs[0].results.filter((x: any) => x.baselineState === 'absent');
    expect(absent).toHaveLength(1);
    expect(absent[0]).toMatchObject({ ruleId: 'exec-pool-type', level: 'error', properties: { args: { function: 'AllocMust' } } });
    const { results: problems } = validate(out, ['--config', githubConfig(join(dir, 'gh.xml'))]);
    expect(problems.filter((p) => p.level === 'error'), JSON.stringify(problems)).toEqual([]);
    checkEnums(all);
  }, 120_000);
});

/** What the multitool does not check: the values and keys of what this feature adds, against the schema. */
function checkEnums(doc: any): void {
  const d = sarifSchema().definitions;
  const run = doc.runs[0];
  for (const r of run.results) {
    if (r.baselineState !== undefined) expect(d.result.properties.baselineState.enum).toContain(r.baselineState);
    for (const s of r.suppressions ?? []) {
      expect(d.suppression.properties.kind.enum).toContain(s.kind);
      for (const k of Object.keys(s)) expect(Object.keys(d.suppression.properties)).toContain(k);
    }
  }
  for (const a of run.artifacts) for (const role of a.roles) expect(d.artifact.properties.roles.items.enum).toContain(role);
  for (const kind of ['toolExecutionNotifications', 'toolConfigurationNotifications']) {
    for (const n of run.invocations[0][kind] ?? []) {
      for (const k of Object.keys(n)) expect(Object.keys(d.notification.properties)).toContain(k);
      expect(d.notification.properties.level.enum).toContain(n.level);
    }
  }
}

describe('--print-config', () => {
  it('prints the configuration a check of the file runs with', async () => {
    const dir = project('print', 'v1', {
      rules: { 'affected-ddi-import': 'off' },
      ignore: ['third_party/**'],
      baseline: 'hvci-baseline.json',
      suppress: [
        { rule: 'exec-pool-type', path: 'build/*.sys', justification: 'a' },
        { rule: 'exec-pool-type', path: 'other/*.sys', justification: 'b' },
      ],
    });
    const r = await runCli(['check', '--print-config', 'build/drv.sys', '--rule', 'nx-compat=note', '--strict'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = json(r.stdout);
    expect(doc.configFile).toBe(join(dir, 'hvci.config.json'));
    expect(doc.rules['affected-ddi-import']).toBe('off');
    expect(doc.rules['nx-compat']).toBe('note');
    expect(doc.rules['init-rwx']).toBe('error');
    expect(doc.ignored).toBe(false);
    expect(doc.baseline).toBe(join(dir, 'hvci-baseline.json'));
    expect(doc.suppress.map((s: any) => s.justification)).toEqual(['a']);
    const ignored = json((await runCli(['check', '--print-config', 'third_party/x/drv.sys'], { cwd: dir })).stdout);
    expect(ignored.ignored).toBe(true);
    expect(ignored.rules['init-rwx']).toBe('warning');
    // What a directory search always skips, as it skips it.
    const modules = json((await runCli(['check', '--print-config', 'node_modules/pkg/drv.sys'], { cwd: dir })).stdout);
    expect(modules.ignored).toBe(true);
  });
});

describe('the link wrapper applies the config\'s baseline and suppressions', () => {
  const obj = (v: Version): string => join(work, 'versions', v, 'drv.obj');
  const lib = (): string => join(work, 'versions', 'ntoskrnl.lib');
  const link = (dir: string, v: Version) => runCli(['link', ...DRIVER_FLAGS, obj(v), lib(), '/out:build/drv.sys', '/map:build/drv.map'], { cwd: dir });

  it('keeps an image whose findings are all in the baseline, and sets aside one with a new finding', async () => {
    const dir = project('link-baseline', 'v1', { baseline: 'hvci-baseline.json' });
    expect((await runCli(['baseline', 'build/drv.sys'], { cwd: dir })).exitCode).toBe(0);
    const same = await link(dir, 'v1');
    expect(same.exitCode, same.stderr).toBe(0);
    const held = (json(readFileSync(join(dir, 'hvci-baseline.json'), 'utf8')).findings as { count: number }[]).reduce((n, e) => n + e.count, 0);
    expect(same.stderr).toContain(`0 finding(s) suppressed and ${held} in the baseline`);
    expect(readFileSync(join(dir, 'build', 'drv.sys')).length).toBeGreaterThan(0);
    const more = await link(dir, 'v2');
    expect(more.exitCode, more.stderr).toBe(1);
    // Only the new finding is shown, and the image is set aside.
    expect(more.stderr.match(/error exec-pool-type/g), more.stderr).toHaveLength(1);
    expect(readFileSync(join(dir, 'build', 'drv.sys.rejected')).length).toBeGreaterThan(0);
  });

  it('a suppression lets the link keep the image; a broken baseline named by the config is exit 2', async () => {
    const dir = project('link-suppress', 'v1', { suppress: [{ rule: 'exec-pool-type', justification: 'legacy allocator, tracked in PLAT-1' }] });
    const r = await link(dir, 'v2');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/3 finding\(s\) suppressed and 0 in the baseline/);
    const broken = project('link-broken-baseline', 'v1', { baseline: 'nowhere.json' });
    rmSync(join(broken, 'build', 'drv.sys'));
    const b = await link(broken, 'v1');
    expect(b.exitCode, b.stderr).toBe(2);
    expect(oneLine(b.stderr)).toMatch(/hvci\.config\.json: baseline: .*nowhere\.json: cannot read: ENOENT \(make it with hvci-build baseline\)$/);
    // The baseline is read before the link: no image is made that could not be judged.
    expect(existsSync(join(broken, 'build', 'drv.sys'))).toBe(false);
  });
});
