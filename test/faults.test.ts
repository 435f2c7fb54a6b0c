import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { buildFixture } from './fixtures/build.js';
import { BIN } from './helpers/cli.js';
import { compileFixture, DRIVER_FLAGS, FIXTURE_DEF, FIXTURE_INCLUDE, FIXTURE_SRC, importLib, tempDir } from './helpers/toolchain.js';

/**
 * Signals to the wrappers, linkers that die or fail, and links racing to one output. The
 * "tools" that must be interrupted are shell scripts passed as the tool (HVCI_LLD_LINK,
 * HVCI_CLANG_CL, the config's toolchain): they write a partial image, record their pid,
 * and sleep until signalled. Waiting is for a file to appear, never for a length of time.
 * POSIX only: the fake tools are shell scripts, and Windows has no signals to send.
 */
const POSIX = process.platform !== 'win32';

let dir: string;
let clean: string;
let lib: string;
const started: number[] = [];

beforeAll(async () => {
  dir = tempDir('faults');
  [clean, lib] = await Promise.all([compileFixture('clean.c', dir), importLib(dir)]);
});

afterEach(() => {
  // A tool a failed test left running (the bug under test): ours, by pid.
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A shell script standing in for a tool. */
function fakeTool(where: string, name: string, body: string): string {
  const path = join(where, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Writes a partial image to `out`, its pid to `pidFile`, then sleeps until a signal ends it. */
const hangingLinker = (where: string, out: string, pidFile: string) =>
  fakeTool(where, 'hang-link', `printf 'MZpartial' > '${out}'\necho $$ > '${pidFile}'\nexec sleep 600`);

function start(args: string[], cwd: string, env: Record<string, string> = {}): ResultPromise<{ reject: false }> & { ended: boolean; err: string } {
  const sub = execa(process.execPath, [BIN, ...args], { cwd, env: { NO_COLOR: '1', ...env }, reject: false, stdin: 'ignore' }) as ResultPromise<{ reject: false }> & { ended: boolean; err: string };
  sub.ended = false;
  sub.err = '';
  sub.stderr?.on('data', (b: Buffer) => (sub.err += b.toString()));
  void sub.then(() => (sub.ended = true));
  return sub;
}

/** Waits until `ready()`; fails if the wrapper ended first. */
async function until(ready: () => boolean, sub: { ended: boolean }): Promise<void> {
  while (!ready()) {
    if (sub.ended) throw new Error('the wrapper ended before the state waited for');
    await delay(20);
  }
}

async function pidOf(pidFile: string, sub: { ended: boolean }): Promise<number> {
  await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', sub);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  started.push(pid);
  return pid;
}

/**
 * Sends `signal` to the wrapper once its tool has started (written `pidFile`), and returns
 * the wrapper's result after checking the tool was waited for: it is gone.
 */
async function interrupt(w: ReturnType<typeof start>, pidFile: string, signal: NodeJS.Signals = 'SIGTERM') {
  const pid = await pidOf(pidFile, w);
  w.kill(signal);
  const r = await w;
  expect(alive(pid)).toBe(false);
  return r;
}

describe.skipIf(!POSIX)('a signal to the link wrapper', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
    it(`${signal} reaches the linker, which is waited for; its partial image is moved aside; exit ${code}`, async () => {
      const sub = tempDir('sig');
      const out = join(sub, 'drv.sys');
      const linker = hangingLinker(sub, out, join(sub, 'pid'));
      const w = start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub, { HVCI_LLD_LINK: linker });
      const r = await interrupt(w, join(sub, 'pid'), signal);
      expect(r.exitCode, r.stderr).toBe(code);
      expect(existsSync(out)).toBe(false);
      expect(readFileSync(`${out}.rejected`, 'utf8')).toBe('MZpartial');
      expect(r.stderr).toMatch(new RegExp(`interrupted by ${signal}; drv\\.sys was not validated: moved to drv\\.sys\\.rejected`));
      expect(readdirSync(sub).filter((f) => f.includes('hvci-lock'))).toEqual([]);
    });
  }

  it("with link.rejected: 'delete' the partial image is deleted", async () => {
    const sub = tempDir('sigdel');
    writeFileSync(join(sub, 'hvci.config.json'), '{"link":{"rejected":"delete"}}');
    writeFileSync(join(sub, 'package.json'), '{}');
    const out = join(sub, 'drv.sys');
    const w = start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub, { HVCI_LLD_LINK: hangingLinker(sub, out, join(sub, 'pid')) });
    const r = await interrupt(w, join(sub, 'pid'));
    expect(r.exitCode).toBe(143);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.rejected`)).toBe(false);
  });
});

describe.skipIf(!POSIX)('an interrupted link and the shared report', () => {
  it("waits for another step's report lock before publishing its result, though interrupted", async () => {
    const sub = tempDir('sigreport');
    const out = join(sub, 'drv.sys');
    const report = join(sub, 'rep.json');
    // Another step (this test's process, alive) holds the report's lock.
    const lock = `${report}.hvci-lock`;
    writeFileSync(lock, String(process.pid));
    const w = start(['link', '--format', 'json', '--report', report, ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub, { HVCI_LLD_LINK: hangingLinker(sub, out, join(sub, 'pid')) });
    const pid = await pidOf(join(sub, 'pid'), w);
    w.kill('SIGINT');
    await until(() => !alive(pid), w);
    // Interrupted, it still does not write beside the holder.
    await delay(400);
    expect(w.ended).toBe(false);
    expect(existsSync(report)).toBe(false);
    rmSync(lock);
    const r = await w;
    expect(r.exitCode, r.stderr).toBe(130);
    const doc = JSON.parse(readFileSync(report, 'utf8')) as { problems: { id: string }[] };
    expect(doc.problems.map((p) => p.id)).toEqual(['interrupted']);
  });
});

describe.skipIf(!POSIX)('a linker that fails leaves nothing make would take as up to date', () => {
  it('one killed by a signal mid-write: exit 128+signal, the fragment moved aside', async () => {
    const sub = tempDir('killed');
    const out = join(sub, 'drv.sys');
    const linker = fakeTool(sub, 'die-link', `printf 'MZpart' > '${out}'\nkill -KILL $$`);
    const r = await start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub, { HVCI_LLD_LINK: linker });
    expect(r.exitCode).toBe(137);
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(`${out}.rejected`, 'utf8')).toBe('MZpart');
  });

  it('one that writes part of an image and exits 1: exit 1, the part moved aside', async () => {
    const sub = tempDir('fails');
    const out = join(sub, 'drv.sys');
    const linker = fakeTool(sub, 'fail-link', `printf 'MZpart' > '${out}'\nexit 1`);
    const r = await start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub, { HVCI_LLD_LINK: linker });
    expect(r.exitCode).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(r.stderr).toMatch(/the link failed \(exit code 1\); drv\.sys moved to drv\.sys\.rejected, so it is not taken as up to date/);
  });

  it('the real lld-link failing (undefined symbols) does not leave the previous image in place', async () => {
    const sub = tempDir('lldfail');
    const out = join(sub, 'drv.sys');
    expect((await start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub)).exitCode).toBe(0);
    // Without the import library the kernel imports are undefined.
    const r = await start(['link', ...DRIVER_FLAGS, clean, `/out:${out}`], sub);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/undefined symbol/);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!POSIX)('signals to cc, build and run', () => {
  it('cc passes SIGTERM to clang-cl and exits 143', async () => {
    const sub = tempDir('cc');
    const cc = fakeTool(sub, 'hang-cc', `echo $$ > '${join(sub, 'pid')}'\nexec sleep 600`);
    const w = start(['cc', '/c', 'x.c'], sub, { HVCI_CLANG_CL: cc });
    const r = await interrupt(w, join(sub, 'pid'));
    expect(r.exitCode).toBe(143);
  });

  it('build: the real clang-cl compiles, the interrupted link leaves no image, and the next build links again', async () => {
    const sub = tempDir('build');
    copyFileSync(join(FIXTURE_SRC, 'clean.c'), join(sub, 'drv.c'));
    writeFileSync(join(sub, 'package.json'), '{}');
    const out = join(sub, 'out', 'drv.sys');
    const build = { sources: ['drv.c'], include: [FIXTURE_INCLUDE], defs: [FIXTURE_DEF], output: 'out/drv.sys' };
    const linker = hangingLinker(sub, out, join(sub, 'pid'));
    writeFileSync(join(sub, 'hvci.config.json'), JSON.stringify({ build, toolchain: { lldLink: linker } }));
    const w = start(['build'], sub);
    const r = await interrupt(w, join(sub, 'pid'));
    expect(r.exitCode, r.stderr).toBe(143);
    expect(existsSync(out)).toBe(false);
    expect(r.stderr).toMatch(/hvci-build build: interrupted by SIGTERM/);
    // The real linker now: not "up to date".
    writeFileSync(join(sub, 'hvci.config.json'), JSON.stringify({ build }));
    const again = await start(['build'], sub);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/memory integrity checks passed/);
    expect(checkImage(out).findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('run -- make: SIGTERM reaches make and through it the link wrapper; no image stays, the shims are removed', async () => {
    const sub = tempDir('run');
    const out = join(sub, 'drv.sys');
    const linker = hangingLinker(sub, out, join(sub, 'pid'));
    writeFileSync(join(sub, 'package.json'), '{}');
    writeFileSync(join(sub, 'hvci.config.json'), JSON.stringify({ toolchain: { lldLink: linker } }));
    writeFileSync(join(sub, 'Makefile'), `drv.sys:\n\tlld-link ${DRIVER_FLAGS.join(' ')} ${clean} ${lib} /out:drv.sys\n`);
    const tmp = join(sub, 'tmp');
    mkdirSync(tmp);
    const w = start(['run', '--', 'make'], sub, { TMPDIR: tmp });
    const r = await interrupt(w, join(sub, 'pid'));
    expect(r.exitCode, r.stderr).toBe(143);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.startsWith('hvci-shims-'))).toEqual([]);
  });
});

describe.skipIf(!POSIX)('links racing to one output', () => {
  it('each caller is told about its own image: the second waits for the first', async () => {
    const sub = tempDir('race');
    const out = join(sub, 'drv.sys');
    const bad = await buildFixture('no-nx-x64');
    const go = join(sub, 'go');
    // The first "links" an image without NX_COMPAT, then takes its time.
    const slow = fakeTool(sub, 'slow-link', `cp '${bad}' '${out}'\necho $$ > '${join(sub, 'pid')}'\nwhile [ ! -e '${go}' ]; do sleep 0.02; done`);
    const first = start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub, { HVCI_LLD_LINK: slow });
    await pidOf(join(sub, 'pid'), first);
    // The second links a good image with the real lld-link.
    const second = start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub);
    await until(() => second.ended || /waiting for another link of drv\.sys/.test(second.err), first);
    writeFileSync(go, '');
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.exitCode, r1.stderr).toBe(1);
    expect(r1.stderr).toMatch(/nx-compat/);
    expect(r2.exitCode, r2.stderr).toBe(0);
    expect(checkImage(out).findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(existsSync(`${out}.hvci-lock`)).toBe(false);
  });

  it('a link interrupted while waiting leaves the other link its image', async () => {
    const sub = tempDir('race-int');
    const out = join(sub, 'drv.sys');
    const go = join(sub, 'go');
    const slow = fakeTool(sub, 'slow-link', `cp '${await buildFixture('clean-x64')}' '${out}'\necho $$ > '${join(sub, 'pid')}'\nwhile [ ! -e '${go}' ]; do sleep 0.02; done`);
    const first = start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub, { HVCI_LLD_LINK: slow });
    await pidOf(join(sub, 'pid'), first);
    const second = start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub);
    await until(() => /waiting for another link/.test(second.err), second);
    second.kill('SIGTERM');
    expect((await second).exitCode).toBe(143);
    expect(existsSync(out)).toBe(true);
    writeFileSync(go, '');
    expect((await first).exitCode).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const sub = tempDir('stale');
    const out = join(sub, 'drv.sys');
    const gone = execa('true');
    await gone;
    writeFileSync(`${out}.hvci-lock`, String(gone.pid));
    const r = await start(['link', ...DRIVER_FLAGS, clean, lib, `/out:${out}`], sub);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(`${out}.hvci-lock`)).toBe(false);
  });
});
