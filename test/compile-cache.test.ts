// Node 22 and later: the CLI's bundles run through Node's own compile cache
// (module.enableCompileCache, src/cli/bundle-cache.ts) in hvci-build's cache directory. The
// main suite runs the CLI on Node 20, where test/bundle-cache.test.ts covers the V8 code
// cache instead; npm run test:node-lts runs this file with the CLI on Node 22, 24 and 26.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from './fixtures/build.js';
import { NODE, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/toolchain.js';

const major = Number(execFileSync(NODE, ['-p', 'process.versions.node']).toString().split('.')[0]);
let driver: string;
let dir: string;
const files = (d: string): string[] => (existsSync(d) ? (readdirSync(d, { recursive: true }) as string[]) : []);

beforeAll(async () => {
  driver = await buildFixture('callsite-pool-x64-o2');
  dir = tempDir('compile-cache');
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(major >= 22)(`Node ${major}: the compile cache`, () => {
  it('is written in the cache directory by a first run and used by the next, with the same result; HVCI_NO_CODE_CACHE=1 writes none', async () => {
    const env = { HVCI_CACHE_DIR: dir };
    const first = await runCli(['check', '--format', 'json', driver], { env });
    expect(first.exitCode, first.stderr).toBe(1);
    const cache = join(dir, 'node-compile-cache');
    const written = files(cache);
    expect(written.length).toBeGreaterThan(0);
    // No V8 code cache of our own beside it: that one is Node 20's.
    expect(readdirSync(dir).filter((f) => f.endsWith('.v8cache'))).toEqual([]);
    const again = await runCli(['check', '--format', 'json', driver], { env });
    expect(again.stdout).toBe(first.stdout);
    // The wrappers' bundle on top of the engine's, through the same cache.
    const doctor = await runCli(['doctor'], { env });
    expect(doctor.exitCode, doctor.stderr).toBe(0);
    expect(files(cache).length).toBeGreaterThan(written.length);
    const none = tempDir('compile-cache-off');
    const off = await runCli(['check', '--format', 'json', driver], { env: { HVCI_CACHE_DIR: none, HVCI_NO_CODE_CACHE: '1' } });
    expect(off.stdout).toBe(first.stdout);
    expect(files(join(none, 'node-compile-cache'))).toEqual([]);
  });
});
