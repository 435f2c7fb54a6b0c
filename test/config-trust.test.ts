import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from './fixtures/build.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/toolchain.js';

/**
 * Configs are code (JS, TS) or name the programs run (`toolchain`): one that someone else
 * could have written is never used, and the search for one is bounded. Ownership is set
 * with chown, so these run as root (as the suite does here); elsewhere they are skipped.
 */
const ROOT = process.platform !== 'win32' && process.getuid?.() === 0;
const OTHER_UID = 4242;

let noNx: string;
beforeAll(async () => {
  noNx = await buildFixture('no-nx-x64');
});

/** A config that, if run, leaves a file behind and turns nx-compat off. */
const evilConfig = (marker: string) =>
  `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default { rules: { 'nx-compat': 'off' } };\n`;

describe.skipIf(!ROOT)('configs others could have written are not used', () => {
  it('a hvci.config.mjs in a world-writable, sticky parent (as /tmp) is never run', async () => {
    const shared = tempDir('shared');
    chmodSync(shared, 0o1777);
    const marker = join(tempDir('marker'), 'ran');
    writeFileSync(join(shared, 'hvci.config.mjs'), evilConfig(marker));
    chownSync(join(shared, 'hvci.config.mjs'), OTHER_UID, OTHER_UID);
    // A project with no package.json or .git: the search would climb out of it.
    const project = join(shared, 'project');
    mkdirSync(project, { mode: 0o755 });
    const r = await runCli(['check', noNx], { cwd: project });
    expect(existsSync(marker)).toBe(false);
    expect(r.exitCode, r.stderr).toBe(1); // nx-compat still an error: the config was not used
  });

  const refusals: [string, (file: string, dir: string) => void, RegExp][] = [
    ['owned by another user', (file) => chownSync(file, OTHER_UID, OTHER_UID), /belongs to uid 4242, neither you \(uid 0\) nor root/],
    // A shared group (one /etc/group does not list as root's private group).
    ['writable by its group', (file) => (chownSync(file, 0, OTHER_UID), chmodSync(file, 0o664)), /it is writable by its group/],
    ['writable by anyone', (file) => chmodSync(file, 0o666), /it is writable by anyone/],
    ['in a directory anyone can write to', (_file, dir) => chmodSync(dir, 0o777), /its directory \S+ is writable by anyone/],
  ];
  for (const [name, spoil, pattern] of refusals) {
    it(`a config ${name} is refused: exit 2, one line naming it, not run`, async () => {
      const dir = tempDir('trust');
      writeFileSync(join(dir, 'package.json'), '{}');
      const marker = join(tempDir('marker'), 'ran');
      const file = join(dir, 'hvci.config.mjs');
      writeFileSync(file, evilConfig(marker), { mode: 0o644 });
      spoil(file, dir);
      const r = await runCli(['check', noNx], { cwd: dir });
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${file}: not used: `);
      expect(r.stderr).toMatch(pattern);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it("a config writable only by the owner's private group (Debian's and Ubuntu's umask 002) is used", async () => {
    const dir = tempDir('trust-upg');
    chmodSync(dir, 0o775);
    writeFileSync(join(dir, 'package.json'), '{}');
    const file = join(dir, 'hvci.config.json');
    writeFileSync(file, '{"rules":{"nx-compat":"off"}}');
    // root's group is root's own: /etc/group lists it with no other members.
    expect(readFileSync('/etc/group', 'utf8')).toMatch(/^root:[^:]*:0:$/m);
    chownSync(file, 0, 0);
    chmodSync(file, 0o664);
    const r = await runCli(['check', noNx], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('a JSON config naming tools is refused the same way, and so is one given with --hvci-config', async () => {
    const dir = tempDir('trust-json');
    writeFileSync(join(dir, 'package.json'), '{}');
    const file = join(dir, 'hvci.config.json');
    writeFileSync(file, '{"toolchain":{"lldLink":"/tmp/not-a-linker"}}');
    chownSync(file, 0, OTHER_UID);
    chmodSync(file, 0o664);
    expect((await runCli(['check', noNx], { cwd: dir })).stderr).toMatch(/hvci\.config\.json: not used: it is writable by its group/);
    const other = tempDir('trust-explicit');
    const r = await runCli(['link', '--hvci-config', file, '/out:x.sys', 'x.obj'], { cwd: other });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/hvci\.config\.json: not used: it is writable by its group/);
  });

  it('a config of its own user (root here) that only its owner can write is used', async () => {
    const dir = tempDir('trust-ok');
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, 'hvci.config.mjs'), "export default { rules: { 'nx-compat': 'off' } };\n", { mode: 0o644 });
    const r = await runCli(['check', noNx], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
  });
});

describe('the config search is bounded', () => {
  it('stops at the home directory', async () => {
    const top = tempDir('home-bound');
    // Broken: exit 2 if it were read.
    writeFileSync(join(top, 'hvci.config.json'), '{"colour":"red"}');
    const home = join(top, 'home');
    mkdirSync(join(home, 'drivers'), { recursive: true });
    const r = await runCli(['check', noNx], { cwd: join(home, 'drivers'), env: { HOME: home } });
    expect(r.exitCode, r.stderr).toBe(1);
    // Within the home directory it is found.
    writeFileSync(join(home, 'hvci.config.json'), '{"rules":{"nx-compat":"off"}}');
    expect((await runCli(['check', noNx], { cwd: join(home, 'drivers'), env: { HOME: home } })).exitCode).toBe(0);
  });

  it('stops at the project root (package.json or .git)', async () => {
    const top = tempDir('root-bound');
    writeFileSync(join(top, 'hvci.config.json'), '{"colour":"red"}');
    mkdirSync(join(top, 'repo', '.git'), { recursive: true });
    mkdirSync(join(top, 'repo', 'src'));
    const r = await runCli(['check', noNx], { cwd: join(top, 'repo', 'src') });
    expect(r.exitCode, r.stderr).toBe(1);
  });
});

describe('the .ts config cache', () => {
  const damages: [string, (text: string) => string][] = [
    ['not JavaScript any more', () => 'export default {{{'],
    ['cut short', (text) => text.slice(0, Math.floor(text.length / 2))],
    ['valid JavaScript that is not what was cached', () => "export default { colour: 'red' };\n"],
  ];
  for (const [name, damage] of damages) {
    it(`a cached config that is ${name} is rebuilt silently`, async () => {
      const dir = tempDir('tscache');
      writeFileSync(join(dir, 'package.json'), '{}');
      writeFileSync(join(dir, 'hvci.config.ts'), "import type { HvciConfig } from 'hvci-build';\nconst c: HvciConfig = { rules: { 'nx-compat': 'off' } };\nexport default c;\n");
      // The cache lives in the temp directory: a private one for this test.
      const tmp = tempDir('tscache-tmp');
      const env = { TMPDIR: tmp };
      expect((await runCli(['check', noNx], { cwd: dir, env })).exitCode).toBe(0);
      const cacheDir = join(tmp, `hvci-build-config-cache-${process.getuid?.() ?? 0}`);
      const [cached] = readdirSync(cacheDir).filter((f) => f.endsWith('.mjs'));
      expect(cached).toBeDefined();
      const file = join(cacheDir, cached!);
      const whole = readFileSync(file, 'utf8');
      writeFileSync(file, damage(whole));
      const r = await runCli(['check', noNx], { cwd: dir, env });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(whole);
    });
  }
});
