import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/toolchain.js';
import { loadConfig } from '../src/config/load-config.js';
import { ConfigError } from '../src/config/schema.js';
import { parseWindowsVersion } from '../src/windows-version.js';
import { buildFixture } from './fixtures/build.js';
import { runCli } from './helpers/cli.js';

const project = (files: Record<string, string>): string => {
  const dir = tempDir('config');
  writeFileSync(join(dir, 'package.json'), '{"name":"drv","private":true}');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

describe('loading', () => {
  it('defaults when there is no config', async () => {
    const c = await loadConfig(project({}));
    expect(c.filepath).toBeUndefined();
    expect(c.rules).toEqual({});
  });

  it('reads hvci.config.json, .hvcirc (YAML), package.json#hvci and hvci.config.mjs', async () => {
    expect((await loadConfig(project({ 'hvci.config.json': '{"rules":{"nx-compat":"warning"}}' }))).rules).toEqual({ 'nx-compat': 'warning' });
    expect((await loadConfig(project({ '.hvcirc': 'minWindowsVersion: "1703"\n' }))).minWindowsBuild).toBe(15063);
    const pkgDir = project({});
    writeFileSync(join(pkgDir, 'package.json'), '{"name":"x","hvci":{"ignore":["legacy/**"]}}');
    expect((await loadConfig(pkgDir)).ignore).toEqual(['legacy/**']);
    const mjs = await loadConfig(project({ 'hvci.config.mjs': 'export default { rules: { "init-rwx": "error" } };' }));
    expect(mjs.rules).toEqual({ 'init-rwx': 'error' });
  });

  it('reads a typed hvci.config.ts that uses defineConfig', async () => {
    const dir = project({
      'hvci.config.ts':
        "import { defineConfig } from 'hvci-build';\nexport default defineConfig({ minWindowsVersion: '1607', rules: { 'affected-ddi-import': 'off' } });\n",
    });
    // The config imports the package, as a user's project would after npm install.
    mkdirSync(join(dir, 'node_modules'));
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(process.cwd()), join(dir, 'node_modules', 'hvci-build'));
    const c = await loadConfig(dir);
    expect(c.minWindowsBuild).toBe(14393);
    expect(c.rules).toEqual({ 'affected-ddi-import': 'off' });
  });

  it("the README's defineConfig form is cached as plain JavaScript, as a type-only config is (no cosmiconfig, no TypeScript per run)", async () => {
    const dir = project({
      'hvci.config.ts': "import { defineConfig } from 'hvci-build';\nexport default defineConfig({ rules: { 'nx-compat': 'off' } });\n",
    });
    // No node_modules/hvci-build here: the cached JavaScript must not import the package.
    const tmp = tempDir('define-config-tmp');
    const check = await runCli(['check', '--no-callsites', '--format', 'json', join(dir, 'hvci.config.ts')], { cwd: dir, env: { TMPDIR: tmp } });
    expect(check.stderr).not.toMatch(/config error/);
    const cacheDir = join(tmp, `hvci-build-config-cache-${process.getuid?.() ?? 0}`);
    const cached = readdirSync(cacheDir).filter((f) => f.endsWith('.mjs'));
    expect(cached).toHaveLength(1);
    expect(readFileSync(join(cacheDir, cached[0]!), 'utf8')).toMatch(/const defineConfig = \(config\) => config;/);
  });

  it('finds the config in a parent directory up to the project root', async () => {
    const dir = project({ 'hvci.config.json': '{"minWindowsVersion":"win11"}' });
    mkdirSync(join(dir, 'build', 'x64'), { recursive: true });
    expect((await loadConfig(join(dir, 'build', 'x64'))).minWindowsBuild).toBe(22000);
  });
});

describe('a broken config is an error naming the file and the key', () => {
  const cases: [string, string, RegExp][] = [
    ['hvci.config.json', '{"rules":{"wx-section":"loud"}}', /hvci\.config\.json: rules\.wx-section: must be one of/],
    ['hvci.config.json', '{"rules":{"no-such-rule":"off"}}', /rules\.no-such-rule: unknown rule/],
    ['hvci.config.json', '{"minWindowsVersion":"XP"}', /minWindowsVersion: "XP" is not/],
    ['hvci.config.json', '{"colour":"red"}', /colour: unknown key/],
    ['hvci.config.json', '{"ignore":[1]}', /ignore: must be a glob/],
    ['hvci.config.json', '{"rules": ', /hvci\.config\.json: cannot load/],
    ['hvci.config.mjs', 'export default {;', /hvci\.config\.mjs: cannot load/],
  ];
  for (const [name, text, pattern] of cases) {
    it(`${name}: ${text}`, async () => {
      const dir = project({ [name]: text });
      await expect(loadConfig(dir)).rejects.toThrow(ConfigError);
      await expect(loadConfig(dir)).rejects.toThrow(pattern);
    });
  }

  it('the CLI exits 2 with one line', async () => {
    const dir = project({ 'hvci.config.json': '{"rules":{"wx-section":"loud"}}' });
    const r = await runCli(['check', await buildFixture('clean-x64')], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/hvci\.config\.json: rules\.wx-section/);
  });
});

describe('config applies to check', () => {
  let noNx: string;
  let straddle: string;
  beforeAll(async () => {
    noNx = await buildFixture('no-nx-x64');
    straddle = await buildFixture('straddle-x64');
  });

  it('rule severities', async () => {
    const dir = project({ 'hvci.config.json': '{"rules":{"nx-compat":"warning"}}' });
    const r = await runCli(['check', noNx], { cwd: dir });
    expect(r.stdout).toMatch(/warning nx-compat/);
    expect(r.exitCode).toBe(0);
    // The command line wins over the config.
    expect((await runCli(['check', '--rule', 'nx-compat=error', noNx], { cwd: dir })).exitCode).toBe(1);
  });

  it('minWindowsVersion 1703 makes straddling relocations warnings', async () => {
    const dir = project({ 'hvci.config.json': '{"minWindowsVersion":"1703"}' });
    const r = await runCli(['check', straddle], { cwd: dir });
    expect(r.stdout).toMatch(/warning straddling-reloc/);
    expect(r.stdout).not.toMatch(/error straddling-reloc/);
  });

  it('ignore skips files when searching a directory', async () => {
    const dir = project({ 'hvci.config.json': '{"ignore":["vendor/**"]}' });
    mkdirSync(join(dir, 'vendor'));
    mkdirSync(join(dir, 'out'));
    const { copyFileSync } = await import('node:fs');
    copyFileSync(noNx, join(dir, 'vendor', 'old.sys'));
    copyFileSync(noNx, join(dir, 'out', 'new.sys'));
    const r = await runCli(['check', '-f', 'json', '.'], { cwd: dir });
    expect(JSON.parse(r.stdout).files.map((f: { path: string }) => f.path)).toEqual(['out/new.sys']);
  });
});

describe('Windows versions', () => {
  it('parses releases and builds', () => {
    expect(parseWindowsVersion('1607')).toBe(14393);
    expect(parseWindowsVersion('10.0.15063')).toBe(15063);
    expect(parseWindowsVersion('22H2')).toBe(19045);
    expect(parseWindowsVersion('vista')).toBeUndefined();
  });
});
