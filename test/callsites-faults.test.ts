/**
 * A bug is never a verdict: a decoder that cannot load, or an analysis that throws, ends in
 * exit 3 and one line that names the file, never in a note and exit 0.
 */
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildFixture } from './fixtures/build.js';
import { tempDir } from './helpers/toolchain.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let driver: string;

beforeAll(async () => {
  driver = await buildFixture('callsite-pool-x64-o2');
}, 600_000);

/** A copy of the built package whose iced-x86 is replaced by `damage` (or missing). */
function packageWithIced(damage: 'missing' | 'broken-wasm'): string {
  const dir = tempDir(`iced-${damage}`);
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'iced-x86' || name === '.cache') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  if (damage === 'broken-wasm') {
    cpSync(join(ROOT, 'node_modules', 'iced-x86'), join(dir, 'node_modules', 'iced-x86'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'iced-x86', 'iced_x86_bg.wasm'), Buffer.from('not a wasm module'));
  }
  return dir;
}

describe('faults in the call-site analysis are internal errors', () => {
  for (const damage of ['missing', 'broken-wasm'] as const) {
    it(`iced-x86 ${damage}: check exits 3 with one line naming the file`, async () => {
      const dir = packageWithIced(damage);
      const r = await execa(process.execPath, [join(dir, 'dist', 'bin', 'hvci-build.cjs'), 'check', driver], {
        reject: false,
        // An empty cache: no decoder snapshot to start from.
        env: { NO_COLOR: '1', HVCI_CACHE_DIR: tempDir('cache'), HVCI_NO_CODE_CACHE: '1' },
        stdin: 'ignore',
      });
      expect(r.exitCode).toBe(3);
      const lines = String(r.stderr).trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^hvci-build: internal error: checking .*callsite-pool-x64-o2.*\.sys failed inside hvci-build/);
      expect(String(r.stdout)).not.toMatch(/clean|0 errors/);
      // With the analysis off, the same package checks the file.
      const off = await execa(process.execPath, [join(dir, 'dist', 'bin', 'hvci-build.cjs'), 'check', '--no-callsites', driver], {
        reject: false,
        env: { NO_COLOR: '1', HVCI_CACHE_DIR: tempDir('cache') },
        stdin: 'ignore',
      });
      expect(off.exitCode).toBe(0);
    });
  }

  it('an analysis that throws makes checkImage throw InternalCheckError, never a finding', async () => {
    vi.resetModules();
    vi.doMock('../src/callsites/index.js', () => ({
      analyseCallSites: () => {
        throw new TypeError('boom');
      },
    }));
    const { checkImage, InternalCheckError } = await import('../src/check-image.js');
    expect(() => checkImage(driver)).toThrow(InternalCheckError);
    expect(() => checkImage(driver)).toThrow(/callsite-pool-x64-o2.*failed inside hvci-build \(boom\)/);
    // An explicit opt-out skips the analysis, as before.
    expect(checkImage(driver, { callsites: false }).findings.map((f) => f.rule)).not.toContain('unreadable');
    vi.doUnmock('../src/callsites/index.js');
  });
});

describe('the library has no hidden I/O', () => {
  it('checkImage() analyses the calls and writes no file; with snapshotDecoder() it keeps the snapshot', async () => {
    const lib = join(ROOT, 'dist', 'index.js');
    const iced = join(ROOT, 'dist', 'callsites', 'iced.js');
    const run = async (withCache: boolean): Promise<{ dir: string; errors: number }> => {
      const dir = tempDir('no-io');
      const code =
        `const { checkImage } = await import(${JSON.stringify(lib)});` +
        `const { snapshotDecoder } = await import(${JSON.stringify(iced)});` +
        `const r = checkImage(${JSON.stringify(driver)}, ${withCache ? '{ decoder: snapshotDecoder() }' : '{}'});` +
        `console.log(r.findings.filter((f) => f.severity === 'error').length);`;
      const r = await execa(process.execPath, ['--input-type=module', '-e', code], { env: { HVCI_CACHE_DIR: dir } });
      return { dir, errors: Number(r.stdout.trim()) };
    };
    const plain = await run(false);
    expect(plain.errors).toBeGreaterThan(5);
    expect(readdirSync(plain.dir)).toEqual([]);
    const cached = await run(true);
    expect(cached.errors).toBe(plain.errors);
    expect(readdirSync(cached.dir).some((f) => f.endsWith('.snapshot'))).toBe(true);
  });
});
