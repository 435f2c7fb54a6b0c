import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { packThisCheckout, NODE } from './helpers/cli.js';
import { compileFixture, DRIVER_FLAGS, importLib, tempDir } from './helpers/toolchain.js';

// What `npm publish` would ship, installed as a user's project gets it (npm test builds dist/ first).
const root = fileURLToPath(new URL('..', import.meta.url));
let packed: string[];
let project: string;
let installed: string;

beforeAll(async () => {
  const dir = tempDir('package');
  const tarball = await packThisCheckout(dir);
  project = join(dir, 'project');
  installed = join(project, 'node_modules', 'hvci-build');
  mkdirSync(installed, { recursive: true });
  await execa('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  packed = (readdirSync(installed, { recursive: true }) as string[]).map((p) => p.replaceAll('\\', '/'));
  // The dependencies as npm would have installed them beside it (no registry in tests).
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== '.bin' && name !== '.cache' && name !== 'hvci-build') symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name));
  }
}, 120_000);

const cli = (bin: string, args: string[], cwd = project) =>
  execa(NODE, [join(installed, 'dist', 'bin', bin), ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });

describe('the published package', () => {
  it('ships each source module once: bundles only, no tsc output beside them', () => {
    const code = packed.filter((p) => /\.(c|m)?js$/.test(p));
    expect(code.every((p) => p.startsWith('dist/bin/') || p.startsWith('dist/bundle/')), code.join(' ')).toBe(true);
    // esbuild starts each bundled module with a `// src/<path>.ts` line.
    const owners = new Map<string, Set<string>>();
    for (const file of code) {
      for (const m of readFileSync(join(installed, file), 'utf8').matchAll(/^\/\/ (src\/\S+\.ts)$/gm)) {
        owners.set(m[1]!, (owners.get(m[1]!) ?? new Set()).add(file));
      }
    }
    expect(owners.size).toBeGreaterThan(50);
    expect([...owners].filter(([, files]) => files.size > 1)).toEqual([]);
  });

  it('runs check, link and check -j from the installed bundles, twice (the second run from the code cache)', async () => {
    const dir = tempDir('package-link');
    const [obj, lib] = await Promise.all([compileFixture('clean.c', dir), importLib(dir)]);
    for (let run = 0; run < 2; run++) {
      const out = join(dir, `clean${run}.sys`);
      const link = await execa(NODE, [join(installed, 'dist', 'bin', 'hvci-lld-link.cjs'), ...DRIVER_FLAGS, obj, lib, `/out:${out}`], { cwd: dir, reject: false });
      expect(link.exitCode, String(link.stderr)).toBe(0);
      const check = await cli('hvci-build.cjs', ['check', '--format', 'json', out]);
      expect(check.exitCode, String(check.stderr)).toBe(0);
      expect((JSON.parse(String(check.stdout)) as { summary: { files: number } }).summary.files).toBe(1);
    }
    // Two worker threads: the worker bundle shares the engine with check-main.cjs.
    const jobs = await cli('hvci-build.cjs', ['check', '-j', '2', '--format', 'json', dir]);
    expect(jobs.exitCode, String(jobs.stderr)).toBe(0);
    expect((JSON.parse(String(jobs.stdout)) as { summary: { files: number } }).summary.files).toBe(2);
  });

  it('is a library for ES modules and CommonJS alike, with its types', async () => {
    const sys = join(tempDir('package-lib'), 'x.sys');
    const esm = await execa(NODE, ['--input-type=module', '-e', `import { checkImage, RULES } from 'hvci-build'; console.log(typeof checkImage, RULES.length > 5, checkImage(${JSON.stringify(sys)}).findings[0].rule)`], { cwd: project });
    expect(String(esm.stdout).trim()).toBe('function true unreadable');
    const cjs = await execa(NODE, ['-e', `const { checkFiles } = require('hvci-build'); console.log(typeof checkFiles)`], { cwd: project });
    expect(String(cjs.stdout).trim()).toBe('function');
    const types = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { exports: { '.': { types: string } } }).exports['.'].types;
    expect(readFileSync(join(installed, types), 'utf8')).toMatch(/export \{ checkImage/);
  });
});
