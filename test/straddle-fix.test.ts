/**
 * The straddling-reloc fix text says only what these builds measure: Microsoft's
 * packed-struct example keeps its straddling relocations whatever /Gy and /Gw say,
 * and loses them when the pointers are naturally aligned or filled at run time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { straddlingReloc } from '../src/rules/straddling-reloc.js';
import { requireTool } from '../src/toolchain/find-tool.js';
import { DRIVER_FLAGS, FIXTURE_INCLUDE, FIXTURE_SRC, importLib, tempDir } from './helpers/toolchain.js';

let dir: string;
let lib: string;
const original = readFileSync(join(FIXTURE_SRC, 'straddle.c'), 'utf8');

beforeAll(async () => {
  dir = tempDir('straddle-fix');
  lib = await importLib(dir);
});

/** Builds a variant of straddle.c and returns its straddling-reloc findings (severity per finding). */
async function straddlers(name: string, source: string, cflags: string[], minWindowsBuild?: number): Promise<string[]> {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  const obj = join(dir, `${name}.obj`);
  const out = join(dir, `${name}.sys`);
  await execa(requireTool('clang-cl'), ['/nologo', '/c', '/kernel', '/GS-', '/O2', ...cflags, '--target=x86_64-pc-windows-msvc', `/I${FIXTURE_INCLUDE}`, `/Fo${obj}`, '--', src]);
  await execa(requireTool('lld-link'), [...DRIVER_FLAGS, '/align:0x1000', obj, lib, `/out:${out}`]);
  return checkImage(out, minWindowsBuild !== undefined ? { minWindowsBuild } : {})
    .findings.filter((f) => f.rule === 'straddling-reloc')
    .map((f) => f.severity);
}

describe('straddling relocations and their fix', () => {
  it('/Gy-, /Gy and /Gy /Gw leave the same straddlers, so the fix text does not offer them', async () => {
    const counts = await Promise.all(
      [['/Gy-'], ['/Gy'], ['/Gy', '/Gw']].map(async (flags, i) => (await straddlers(`gy${i}`, original, flags)).length),
    );
    expect(counts[0]).toBeGreaterThan(0);
    expect(new Set(counts).size).toBe(1);
    expect(straddlingReloc.meta.fix).toMatch(/\/Gy and \/Gw do not change them/);
  });

  it('natural alignment (no #pragma pack(1) around the struct with a pointer) removes them', async () => {
    const aligned = original.replace(/^#pragma pack.*$/gm, '');
    expect(aligned).not.toEqual(original);
    expect(await straddlers('aligned', aligned, ['/Gy'])).toEqual([]);
    expect(straddlingReloc.meta.fix).toMatch(/no #pragma pack\(1\)/);
  });

  it('filling the pointers at run time instead of in the initialiser removes them', async () => {
    const start = original.indexOf('BAD_STRUCT MayHave');
    const end = original.indexOf('NTSTATUS NTAPI');
    const runtime =
      original.slice(0, start) +
      'BAD_STRUCT MayHaveStraddleRelocations[4096];\n' +
      original.slice(end).replace('ULONG sum = 0;', 'ULONG sum = 0;\n  for (ULONG i = 0; i < 4096; i++) MayHaveStraddleRelocations[i].String = "BAD_STRING";');
    expect(await straddlers('runtime', runtime, ['/Gy'])).toEqual([]);
    expect(straddlingReloc.meta.fix).toMatch(/fill such pointers at run time/);
  });

  it("minWindowsVersion '1703' makes the same findings warnings", async () => {
    const severities = await straddlers('min1703', original, ['/Gy'], 15063);
    expect(severities.length).toBeGreaterThan(0);
    expect(new Set(severities)).toEqual(new Set(['warning']));
    expect(straddlingReloc.meta.fix).toMatch(/minWindowsVersion: '1703'/);
  });
});
