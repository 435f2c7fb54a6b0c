import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { readYaml, runWorkflowJob, stepNamed, type RunOptions, type RunResult } from './helpers/actions-runner.js';
import { packThisCheckout, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/toolchain.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OWN = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; peerDependencies: Record<string, string> };

const step = stepNamed;

describe('init merges into an existing .gitignore and package.json', () => {
  it('keeps the user\'s lines, keys, scripts, dependencies and indentation', async () => {
    const dir = tempDir('init-merge');
    writeFileSync(join(dir, '.gitignore'), '# mine\n*.log\nbuild/');
    const pkg = { name: 'my-driver', version: '2.0.0', scripts: { test: 'make test', 'hvci:build': 'make && hvci-build build' }, devDependencies: { typescript: '~5.8.0' } };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 4) + '\n');
    const r = await runCli(['init', '--name', 'merged'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}\.gitignore \(merged\)$/m);
    // The user's lines, then the template's lines they lacked (build/ they had).
    const template = readFileSync(new URL('../templates/driver/_gitignore', import.meta.url), 'utf8').split('\n').filter((l) => l !== '' && l !== 'build/');
    const mergedIgnore = `# mine\n*.log\nbuild/\n${template.join('\n')}\n`;
    expect(template).toContain('node_modules/');
    expect(r.stdout).toMatch(/^ {2}package\.json \(merged\)$/m);
    expect(r.stdout).toMatch(/npm install/);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe(mergedIgnore);
    const text = readFileSync(join(dir, 'package.json'), 'utf8');
    expect(text).toMatch(/^ {4}"name": "my-driver",$/m);
    expect(JSON.parse(text)).toEqual({
      ...pkg,
      // The user's hvci:build stays; typescript is theirs already.
      scripts: { ...pkg.scripts, 'hvci:check': 'hvci-build check build/' },
      devDependencies: { typescript: '~5.8.0', 'hvci-build': `^${OWN.version}` },
    });
    // Again: nothing left to add.
    const again = await runCli(['init', '--name', 'merged', '--force'], { cwd: dir });
    expect(again.stdout).toMatch(/^ {2}package\.json \(unchanged\)$/m);
    // Nothing to add leaves the user's bytes alone, even in forms JSON.stringify would not write back.
    const own = readFileSync(join(dir, 'package.json'), 'utf8').trimEnd().replace('"version": "2.0.0"', '"version": "2.0.0", "weight": 1.0, "note": "\\u00e9"');
    writeFileSync(join(dir, 'package.json'), own);
    const third = await runCli(['init', '--name', 'merged', '--force'], { cwd: dir });
    expect(third.stdout).toMatch(/^ {2}package\.json \(unchanged\)$/m);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(own);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe(mergedIgnore);
  });

  it('a new package.json has hvci-build and typescript in devDependencies and the npm scripts', async () => {
    const dir = tempDir('init-pkg');
    expect((await runCli(['init', '--name', 'fresh'], { cwd: dir })).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toEqual({
      name: 'fresh',
      private: true,
      scripts: { 'hvci:build': 'hvci-build build', 'hvci:check': 'hvci-build check build/' },
      devDependencies: { 'hvci-build': `^${OWN.version}`, typescript: OWN.peerDependencies.typescript },
    });
  });

  it('an unparsable package.json is a one-line error, and nothing is written', async () => {
    const dir = tempDir('init-badpkg');
    writeFileSync(join(dir, 'package.json'), '{ "name": "x", }\n');
    const r = await runCli(['init'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^hvci-build: init: package\.json is not valid JSON \(.+\); fix it or remove it$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['package.json']);
  });
});

describe('the workflow init writes, its steps run in order in a new repository', () => {
  const workflowOf = (dir: string) => join(dir, '.github', 'workflows', 'hvci.yml');
  let ws: string;
  const env = (): NodeJS.ProcessEnv => {
    // apt-get must not run: the tools are here. npm may use its cache first (the registry is the fallback).
    const shims = tempDir('wf-shims');
    writeFileSync(join(shims, 'apt-get'), '#!/bin/sh\necho "apt-get must not run here" >&2\nexit 100\n', { mode: 0o755 });
    return { ...process.env, NO_COLOR: '1', npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', PATH: `${shims}:${process.env.PATH}` };
  };

  /** Each run starts as on a runner: a fresh checkout, with nothing installed or built. */
  const run = (github?: RunOptions['github'], failUses?: RegExp): Promise<RunResult> => {
    for (const out of ['node_modules', 'build', 'hvci.sarif']) rmSync(join(ws, out), { recursive: true, force: true });
    return runWorkflowJob(workflowOf(ws), 'hvci', { workspace: ws, env: env(), ...(github ? { github } : {}), ...(failUses ? { failUses } : {}) });
  };

  beforeAll(async () => {
    ws = join(tempDir('wf'), 'driver');
    mkdirSync(ws);
    expect((await runCli(['init'], { cwd: ws })).exitCode).toBe(0);
    // hvci-build is not taken from the registry here but from this checkout, packed as npm would
    // publish it; typescript from this checkout's node_modules. The rest is what a user does: npm install, commit the lockfile.
    const tarball = basename(await packThisCheckout(join(ws, '..')));
    const pkgPath = join(ws, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies).toEqual({ 'hvci-build': `^${OWN.version}`, typescript: OWN.peerDependencies.typescript });
    pkg.devDependencies = { 'hvci-build': `file:../${tarball}`, typescript: `file:${join(ROOT, 'node_modules', 'typescript')}` };
    writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
    await execa('npm', ['install'], { cwd: ws, env: env() });
    expect(existsSync(join(ws, 'package-lock.json'))).toBe(true);
  });

  it('asks for the permissions upload-sarif needs, current action majors and a supported Node LTS', () => {
    const wf = readYaml(workflowOf(ws));
    expect(wf.permissions).toEqual({ contents: 'read', actions: 'read', 'security-events': 'write' });
    const steps = ((wf.jobs as Record<string, { steps: Record<string, string>[] }>).hvci!).steps;
    expect(steps.filter((s) => s.uses).map((s) => s.uses)).toEqual(['actions/checkout@v7', 'actions/setup-node@v7', 'github/codeql-action/upload-sarif@v4']);
    expect(steps.map((s) => s.run).filter((run) => run && /npm (install|i) |npx hvci-build (build|check)/.test(run))).toEqual([]);
  });

  it('a clean driver: npm ci, no apt-get, build, SARIF uploaded, a refused upload no failure', async () => {
    const r = await run();
    const log = r.steps.map((s) => `${s.name}: ${s.outcome}\n${s.output}`).join('\n');
    expect(r.status, log).toBe('success');
    expect(step(r, /checkout/).uses).toBe('actions/checkout@v7');
    expect(step(r, /setup-node/).with).toEqual({ 'node-version': '24', cache: 'npm' });
    expect(step(r, /^npm ci/).outcome).toBe('success');
    expect(existsSync(join(ws, 'node_modules', '.bin', 'hvci-build'))).toBe(true);
    expect(step(r, /^Install LLVM/).output).toMatch(/skipping apt-get/);
    expect(step(r, /^Build and check/).output).toMatch(/built build\/driver\.sys \(1 compiled\)/);
    const sarif = JSON.parse(readFileSync(join(ws, 'hvci.sarif'), 'utf8')) as { runs: { results: unknown[] }[] };
    expect(sarif.runs).toHaveLength(1);
    const upload = step(r, /^Upload/);
    expect([upload.outcome, upload.uses]).toEqual(['success', 'github/codeql-action/upload-sarif@v4']);
    expect(upload.with).toEqual({ sarif_file: 'hvci.sarif', category: 'hvci-build' });
    // A repository without code scanning refuses the upload: the job still passes.
    const refused = await run(undefined, /upload-sarif/);
    expect([refused.status, step(refused, /^Upload/).outcome]).toEqual(['success', 'failure']);
  });

  it('an error finding fails the job, after the annotations and the upload; a fork pull request does not upload', async () => {
    const src = join(ws, 'src', 'driver.c');
    writeFileSync(src, readFileSync(src, 'utf8').replace('ExAllocatePoolWithTag(NonPagedPoolNx,', 'ExAllocatePoolWithTag(NonPagedPool,'));
    const r = await run();
    expect(r.status).toBe('failure');
    expect(step(r, /^Build and check/).exitCode).toBe(1);
    expect(step(r, /^Annotations/).output).toMatch(/^::error .*exec-pool-type/m);
    const results = (JSON.parse(readFileSync(join(ws, 'hvci.sarif'), 'utf8')) as { runs: { results: { ruleId: string; level: string }[] }[] }).runs[0]!.results;
    expect(results.filter((x) => x.level === 'error').map((x) => x.ruleId)).toContain('exec-pool-type');
    expect(step(r, /^Upload/).outcome).toBe('success');

    const fork = { event_name: 'pull_request', repository: 'owner/driver', event: { pull_request: { head: { repo: { full_name: 'contributor/driver' } } } } };
    const fromFork = await run(fork);
    expect(fromFork.status).toBe('failure');
    expect(step(fromFork, /^Upload/).outcome).toBe('skipped');
    const sameRepo = { ...fork, event: { pull_request: { head: { repo: { full_name: 'owner/driver' } } } } };
    expect(step(await run(sameRepo), /^Upload/).outcome).toBe('success');
  });
});
