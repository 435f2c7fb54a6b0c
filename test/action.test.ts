import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from './fixtures/build.js';
import { runAction, stepNamed } from './helpers/actions-runner.js';
import { packThisCheckout, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/toolchain.js';

// The repository root holds action.yml; `hvci-build: action` runs this checkout's dist/ (npm run build first).
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * apt-get and sudo stand-ins that only log their arguments: the action's toolchain step must
 * not install anything where the tools are there, and must name the right packages where not.
 */
function aptShims(): { env: NodeJS.ProcessEnv; log: string } {
  const dir = tempDir('apt-shims');
  const log = join(dir, 'apt.log');
  writeFileSync(join(dir, 'apt-get'), `#!/bin/sh\necho "apt-get $*" >> '${log}'\n`);
  writeFileSync(join(dir, 'sudo'), '#!/bin/sh\nexec "$@"\n');
  for (const f of ['apt-get', 'sudo']) chmodSync(join(dir, f), 0o755);
  return { env: { ...process.env, NO_COLOR: '1', PATH: `${dir}:${process.env.PATH}` }, log };
}

async function initProject(name: string): Promise<string> {
  const ws = tempDir(`action-${name}`);
  const r = await runCli(['init', '--name', name], { cwd: ws });
  expect(r.exitCode, r.stderr).toBe(0);
  return ws;
}

const step = stepNamed;

interface Sarif {
  runs: { tool: { driver: { name: string } }; results: { ruleId: string; level?: string }[] }[];
}
const readSarif = (file: string): Sarif => JSON.parse(readFileSync(file, 'utf8')) as Sarif;
const errors = (s: Sarif): string[] => s.runs.flatMap((run) => run.results).filter((x) => x.level === 'error').map((x) => x.ruleId);

describe('action.yml, run step by step as the runner does', () => {
  let legacy: string;
  let clean: string;
  beforeAll(async () => {
    legacy = await buildFixture('legacy-x64');
    clean = await buildFixture('clean-x64');
  });

  it('build: a clean driver passes, apt-get is skipped, the SARIF goes to upload-sarif, a refused upload fails nothing', async () => {
    const ws = await initProject('clean');
    const { env, log } = aptShims();
    const r = await runAction(ROOT, {}, { workspace: ws, env });
    const out = r.steps.map((s) => `${s.name}: ${s.outcome}\n${s.output}`).join('\n');
    expect(r.status, out).toBe('success');
    // auto: no hvci-build in the project's node_modules, so the action's own.
    expect(step(r, /^Set up/).output).toMatch(/^hvci-build 0\.\d+\.\d+ \(action\)$/m);
    expect(step(r, /^Install LLVM/).output).toMatch(/toolchain is installed: skipping apt-get/);
    expect(existsSync(log)).toBe(false);
    expect(r.actionOutputs['exit-code']).toBe('0');
    const sarif = r.actionOutputs['sarif-file']!;
    expect(existsSync(sarif)).toBe(true);
    expect(readSarif(sarif).runs[0]!.tool.driver.name).toBe('hvci-build');
    expect(errors(readSarif(sarif))).toEqual([]);
    const upload = step(r, /^Upload/);
    expect(upload.uses).toBe('github/codeql-action/upload-sarif@v4');
    expect(upload.outcome).toBe('success');
    expect(upload.with).toEqual({ sarif_file: sarif, category: 'hvci-build' });
    expect(r.summary).toMatch(/^hvci-build build passed \(/m);
    expect(existsSync(join(ws, 'build', 'clean.sys'))).toBe(true);
    // A repository without code scanning refuses the upload: the job still passes.
    rmSync(join(ws, 'build'), { recursive: true }); // a fresh checkout
    const refused = await runAction(ROOT, {}, { workspace: ws, env, failUses: /upload-sarif/ });
    expect(step(refused, /^Upload/).outcome).toBe('failure');
    expect([refused.status, step(refused, /^Verdict/).outcome]).toEqual(['success', 'success']);
  });

  it('build: an error-level finding fails the job after the SARIF is written; a fork pull request skips the upload', async () => {
    const ws = await initProject('execpool');
    const src = join(ws, 'src', 'driver.c');
    writeFileSync(src, readFileSync(src, 'utf8').replace('ExAllocatePoolWithTag(NonPagedPoolNx,', 'ExAllocatePoolWithTag(NonPagedPool,'));
    const fork = { event_name: 'pull_request', repository: 'owner/driver', event: { pull_request: { head: { repo: { full_name: 'contributor/driver' } } } } };
    const r = await runAction(ROOT, {}, { workspace: ws, env: aptShims().env, github: fork });
    expect(r.status).toBe('failure');
    expect(r.actionOutputs['exit-code']).toBe('1');
    expect(errors(readSarif(r.actionOutputs['sarif-file']!))).toContain('exec-pool-type');
    // The log run (format github) shows the finding as an annotation.
    expect(step(r, /^Run hvci-build/).output).toMatch(/^::error .*exec-pool-type/m);
    expect(step(r, /^Decide/).output).toMatch(/not uploading to code scanning: a pull request from a fork/);
    expect(step(r, /^Upload/).outcome).toBe('skipped');
    const verdict = step(r, /^Verdict/);
    expect([verdict.outcome, verdict.exitCode]).toEqual(['failure', 1]);
    expect(r.summary).toMatch(/hvci-build build failed: error-level findings/);
  });

  it("check: paths split on spaces and newlines, globs left to hvci-build, the project's own hvci-build, no toolchain step", async () => {
    const ws = tempDir('action-check');
    mkdirSync(join(ws, 'out'));
    copyFileSync(legacy, join(ws, 'out', 'legacy.sys'));
    copyFileSync(clean, join(ws, 'out', 'clean.sys'));
    // What npm ci leaves for a project with hvci-build in devDependencies.
    mkdirSync(join(ws, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(join(ROOT, 'dist', 'bin', 'hvci-build.cjs'), join(ws, 'node_modules', '.bin', 'hvci-build'));
    const r = await runAction(ROOT, { command: 'check', paths: 'out/legacy.sys\n  out/*.sys  ', category: 'legacy', format: 'text' }, { workspace: ws, env: aptShims().env });
    expect(step(r, /^Set up/).output).toMatch(/\(project\)$/m);
    expect(step(r, /^Install LLVM/).outcome).toBe('skipped');
    expect(r.actionOutputs['exit-code']).toBe('1');
    const sarif = readSarif(r.actionOutputs['sarif-file']!);
    expect(errors(sarif)).toContain('wx-section');
    expect(step(r, /^Upload/).with).toEqual({ sarif_file: r.actionOutputs['sarif-file'], category: 'legacy' });
    const log = step(r, /^Run hvci-build/).output;
    expect(log).toMatch(/out\/legacy\.sys.*error wx-section/);
    expect(log).toMatch(/2 files checked/);
    expect(log).not.toMatch(/^::/m);
    // A glob that matches nothing reaches hvci-build as it is (bash would have passed it on too, but
    // quoted: the message names it) and is an error.
    const none = await runAction(ROOT, { command: 'check', paths: 'nomatch/*.sys' }, { workspace: ws, env: aptShims().env });
    expect(none.actionOutputs['exit-code']).toBe('2');
    expect(step(none, /^Run hvci-build/).output).toMatch(/nomatch\/\*\.sys/);
    // With every finding in the config's baseline the run passes, and the summary counts none of them as errors.
    writeFileSync(join(ws, 'hvci.config.json'), JSON.stringify({ baseline: 'hvci-baseline.json' }));
    expect((await runCli(['baseline', 'out/legacy.sys'], { cwd: ws })).exitCode).toBe(0);
    const adopted = await runAction(ROOT, { command: 'check', paths: 'out/legacy.sys' }, { workspace: ws, env: aptShims().env });
    expect(adopted.actionOutputs['exit-code']).toBe('0');
    expect(adopted.summary).toMatch(/^hvci-build check passed \(.*\d+ in the baseline or suppressed\)$/m);
    expect(adopted.summary).not.toMatch(/\d+ error/);
  });

  it('hvci-build: an npm spec (here a tarball, as the registry would serve it) is installed under RUNNER_TEMP', async () => {
    const ws = tempDir('action-npm');
    copyFileSync(legacy, join(ws, 'legacy.sys'));
    const tarball = await packThisCheckout(tempDir('action-pack'));
    const env = { ...aptShims().env, npm_config_prefer_offline: 'true' };
    const r = await runAction(ROOT, { command: 'check', paths: 'legacy.sys', 'hvci-build': tarball }, { workspace: ws, env });
    expect(step(r, /^Set up/).output).toContain(`(${tarball})`);
    expect(r.path).toHaveLength(1);
    expect(readFileSync(join(r.path[0]!, 'hvci-build'), 'utf8')).toContain('hvci-build-npm/node_modules/.bin/hvci-build');
    expect(r.actionOutputs['exit-code']).toBe('1');
    expect(existsSync(join(ws, 'node_modules'))).toBe(false);
  });

  it('working-directory: the SARIF locations are made relative to the repository root, as code scanning reads them', async () => {
    const ws = tempDir('action-subdir');
    mkdirSync(join(ws, 'drivers', 'a b'), { recursive: true });
    copyFileSync(legacy, join(ws, 'drivers', 'a b', 'legacy.sys'));
    const r = await runAction(ROOT, { command: 'check', paths: '.', 'working-directory': 'drivers/a b' }, { workspace: ws, env: aptShims().env });
    expect(r.actionOutputs['exit-code']).toBe('1');
    const run = JSON.parse(readFileSync(r.actionOutputs['sarif-file']!, 'utf8')).runs[0];
    const root = `${pathToFileURL(ws).href}/`;
    expect(run.originalUriBaseIds.SRCROOT.uri).toBe(root);
    expect(run.invocations[0].workingDirectory.uri).toBe(root);
    const locations = run.results.map((x: { locations: { physicalLocation: { artifactLocation: unknown } }[] }) => x.locations[0]!.physicalLocation.artifactLocation);
    expect(locations.length).toBeGreaterThan(0);
    for (const l of locations) expect(l).toEqual({ uri: 'drivers/a%20b/legacy.sys', uriBaseId: 'SRCROOT', index: 0 });
  });

  it('inputs reach hvci-build: a bad min-windows is exit 2, upload-sarif: false and Dependabot skip the upload', async () => {
    const ws = tempDir('action-minwin');
    copyFileSync(clean, join(ws, 'clean.sys'));
    const r = await runAction(ROOT, { command: 'check', paths: 'clean.sys', 'min-windows': 'vista', 'upload-sarif': 'false' }, { workspace: ws, env: aptShims().env });
    expect(r.actionOutputs['exit-code']).toBe('2');
    expect(step(r, /^Run hvci-build/).output).toMatch(/--min-windows 'vista'/);
    expect(step(r, /^Decide/).output).toMatch(/not uploading to code scanning: upload-sarif is false/);
    expect(step(r, /^Upload/).outcome).toBe('skipped');
    expect(r.status).toBe('failure');
    // A valid one passes; a Dependabot run (read-only token) skips the upload.
    const bot = await runAction(ROOT, { command: 'check', paths: 'clean.sys', 'min-windows': '1703' }, { workspace: ws, env: aptShims().env, github: { actor: 'dependabot[bot]' } });
    expect([bot.status, bot.actionOutputs['exit-code']]).toEqual(['success', '0']);
    expect(step(bot, /^Decide/).output).toMatch(/not uploading to code scanning: Dependabot runs have a read-only token/);
    expect(step(bot, /^Upload/).outcome).toBe('skipped');
  });

  it('build where a tool is missing: apt-get installs clang-tools-19 lld-19 llvm-19', async () => {
    const ws = await initProject('notools');
    const { env, log } = aptShims();
    // The stand-in installs nothing, so doctor still misses lld-link afterwards and the job stops there.
    const r = await runAction(ROOT, {}, { workspace: ws, env: { ...env, HVCI_LLD_LINK: '/nonexistent/lld-link' } });
    expect(readFileSync(log, 'utf8')).toBe('apt-get update -q\napt-get install -y -q clang-tools-19 lld-19 llvm-19\n');
    expect(step(r, /^Install LLVM/).outcome).toBe('failure');
    expect(step(r, /^Run hvci-build/).outcome).toBe('skipped');
    expect(r.status).toBe('failure');
  });

  it('check with no paths, or build with paths, stops at once with exit 2', async () => {
    const ws = tempDir('action-usage');
    for (const [inputs, message] of [
      [{ command: 'check' }, /command: check needs paths/],
      [{ command: 'build', paths: 'x.sys' }, /paths is for command: check/],
      [{ command: 'lint' }, /command must be build or check, not 'lint'/],
    ] as const) {
      const r = await runAction(ROOT, inputs, { workspace: ws, env: aptShims().env });
      const setup = step(r, /^Set up/);
      expect([setup.outcome, setup.exitCode]).toEqual(['failure', 2]);
      expect(setup.output).toMatch(message);
      expect(r.steps.slice(1).every((s) => s.outcome === 'skipped')).toBe(true);
    }
  });
});
