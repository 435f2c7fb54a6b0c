import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { readObjectSections } from '../src/link/coff-object.js';
import { requireTool } from '../src/toolchain/find-tool.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/toolchain.js';

let dir: string;
const BASE = ['/nologo', '/c', '/kernel', '--target=x86_64-pc-windows-msvc'];

// Compiles only when the macro is (or is not) defined, so the object proves what the compiler saw.
const NEEDS_AUTO = '#if !defined(POOL_NX_OPTIN_AUTO) || POOL_NX_OPTIN_AUTO != 1\n#error no NX opt-in\n#endif\nint f1(void){return 1;}\nint f2(void){return 2;}\n';
const FORBIDS_AUTO = '#ifdef POOL_NX_OPTIN_AUTO\n#error injected although POOL_NX_OPTIN was given\n#endif\nint g(void){return 0;}\n';

beforeAll(() => {
  dir = tempDir('cc');
  writeFileSync(join(dir, 'needs-auto.c'), NEEDS_AUTO);
  writeFileSync(join(dir, 'forbids-auto.c'), FORBIDS_AUTO);
});

/** Functions in sections of their own (COMDAT, /Gy): one .text section per function. */
const textSections = (obj: string) =>
  readObjectSections(obj).filter((s) => s.name.startsWith('.text') && (s.characteristics & 0x1000) !== 0);

describe('hvci-build cc', () => {
  it('injects -DPOOL_NX_OPTIN_AUTO=1 and /Gy', async () => {
    const obj = join(dir, 'a.obj');
    const r = await runCli(['cc', ...BASE, `/Fo${obj}`, '--', join(dir, 'needs-auto.c')], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(textSections(obj).length).toBeGreaterThanOrEqual(2);
    // The bare compiler sees neither.
    const bare = await execa(requireTool('clang-cl'), [...BASE, `/Fo${join(dir, 'bare.obj')}`, '--', join(dir, 'needs-auto.c')], { reject: false });
    expect(bare.exitCode).not.toBe(0);
  });

  it('leaves NX opt-in alone when the command line chooses it, also inside a response file', async () => {
    for (const define of ['/DPOOL_NX_OPTIN=1', '-DPOOL_NX_OPTIN=1', '-D POOL_NX_OPTIN=1']) {
      const obj = join(dir, 'b.obj');
      const r = await runCli(['cc', ...BASE, ...define.split(' '), `/Fo${obj}`, '--', join(dir, 'forbids-auto.c')], { cwd: dir });
      expect(r.exitCode, `${define}: ${r.stderr}`).toBe(0);
    }
    const rsp = join(dir, 'defs.rsp');
    writeFileSync(rsp, '"/DPOOL_NX_OPTIN=1"');
    const r = await runCli(['cc', ...BASE, `@${rsp}`, `/Fo${join(dir, 'c.obj')}`, '--', join(dir, 'forbids-auto.c')], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('passes response files and paths with spaces through unchanged', async () => {
    const spaced = join(dir, 'src dir');
    mkdirSync(spaced, { recursive: true });
    writeFileSync(join(spaced, 'x y.c'), NEEDS_AUTO);
    const rsp = join(spaced, 'cc args.rsp');
    writeFileSync(rsp, [...BASE, `"/Fo${join(spaced, 'x y.obj')}"`, '--', `"${join(spaced, 'x y.c')}"`].join(' '));
    const r = await runCli(['cc', `@${rsp}`], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(textSections(join(spaced, 'x y.obj')).length).toBeGreaterThanOrEqual(2);
  });

  it('hvci-clang-cl is a drop-in for clang-cl', async () => {
    const bin = fileURLToPath(new URL('../dist/bin/hvci-clang-cl.cjs', import.meta.url));
    const r = await execa(process.execPath, [bin, ...BASE, `/Fo${join(dir, 'd.obj')}`, '--', join(dir, 'needs-auto.c')], { cwd: dir, reject: false });
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });

  it('a compile error keeps the compiler exit code and its message', async () => {
    writeFileSync(join(dir, 'broken.c'), 'int x = ;\n');
    const r = await runCli(['cc', ...BASE, `/Fo${join(dir, 'e.obj')}`, '--', join(dir, 'broken.c')], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/expected expression/);
  });
});

describe('cc, found in review', () => {
  it('/DPOOL_NX_OPTIN#1 and /clang:-DPOOL_NX_OPTIN=1 count as choosing NX opt-in', async () => {
    for (const define of ['/DPOOL_NX_OPTIN#1', '/clang:-DPOOL_NX_OPTIN=1']) {
      const r = await runCli(['cc', ...BASE, define, `/Fo${join(dir, 'f.obj')}`, '--', join(dir, 'forbids-auto.c')], { cwd: dir });
      expect(r.exitCode, `${define}: ${r.stderr}`).toBe(0);
    }
  });
});
