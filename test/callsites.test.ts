import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/toolchain.js';
import { analyseCallSites } from '../src/callsites/index.js';
import { decodeBitMask } from '../src/callsites/arm64.js';
import { checkImage } from '../src/check-image.js';
import type { FileResult, Finding } from '../src/findings.js';
import { parseImage } from '../src/pe/image.js';
import { bufferSource } from '../src/pe/source.js';
import { executablePool } from '../src/rules/exec-pool-type.js';
import { executableProtection } from '../src/rules/exec-page-protection.js';
import { CALLSITE_TARGETS } from '../src/rules/unknown-pool-type.js';
import { findTool } from '../src/toolchain/find-tool.js';
import { buildFixture, buildFixtures, CALLSITE_FIXTURES, FIXTURES, type CallsiteFixtureName, type FixtureName } from './fixtures/build.js';
import { runCli } from './helpers/cli.js';
import { prng } from './helpers/image-edit.js';

const ARCHES = ['x64', 'x86', 'arm64'] as const;
const OPTS = ['od', 'o1', 'o2'] as const;
const RULE_IDS = ['exec-pool-type', 'exec-page-protection', 'exec-mdl-mapping', 'unknown-pool-type'];

const paths = new Map<CallsiteFixtureName, string>();
const path = (name: CallsiteFixtureName): string => paths.get(name)!;

beforeAll(async () => {
  for (const [name, file] of await buildFixtures(Object.keys(CALLSITE_FIXTURES) as CallsiteFixtureName[])) paths.set(name, file);
}, 600_000);

const callsiteFindings = (r: FileResult): Finding[] => r.findings.filter((f) => RULE_IDS.includes(f.rule));
/** x86 map and PDB names are decorated (_AllocExec); compare plain names. */
const plain = (name: unknown): string => String(name ?? '').replace(/^_/, '').replace(/@\d+$/, '');
/** One line per call-site finding: rule, DDI, value and (when named) function. */
const lines = (r: FileResult, named = true): string[] =>
  callsiteFindings(r)
    .map((f) => [f.rule, f.args.ddi, f.args.value ?? '-', named ? plain(f.args.function) : ''].join(' ').trim())
    .sort();

const POOL_EXPECTED = [
  'exec-pool-type ExAllocatePool 0x0 AllocOthers',
  'exec-pool-type ExAllocatePool2 0x80 Alloc2Exec',
  'exec-pool-type ExAllocatePool3 0x80 AllocOthers',
  'exec-pool-type ExAllocatePoolWithQuotaTag 0x0 AllocOthers',
  'exec-pool-type ExAllocatePoolWithTag 0x0 AllocExec',
  'exec-pool-type ExAllocatePoolWithTag 0x2 AllocMany',
  'exec-pool-type ExAllocatePoolWithTag 0x4 AllocTail',
  'exec-pool-type ExAllocatePoolWithTagPriority 0x4 AllocOthers',
  'exec-pool-type ExInitializeLookasideListEx 0x0 AllocOthers',
  'exec-pool-type ExInitializeNPagedLookasideList 0x0 AllocOthers',
  'unknown-pool-type ExAllocatePoolWithTag - AllocRuntime',
].sort();

const MAP_EXPECTED = [
  'exec-page-protection MmAllocateContiguousNodeMemory 0x40 AllocContiguous',
  'exec-mdl-mapping MmMapLockedPages - MapMdlOld',
  'exec-mdl-mapping MmMapLockedPagesSpecifyCache 0x10 MapMdlExec',
  'exec-page-protection MmMapIoSpaceEx 0x240 MapIo',
  'exec-page-protection MmProtectMdlSystemAddress 0x20 ProtectMdlRx',
  'exec-page-protection ZwAllocateVirtualMemory 0x40 AllocRwx',
  'exec-page-protection ZwCreateSection 0x40 MapSection',
  'exec-page-protection ZwMapViewOfSection 0x10 MapSection',
  'exec-page-protection ZwProtectVirtualMemory 0x20 ProtectRx',
  'unknown-pool-type ZwAllocateVirtualMemory - AllocRuntime',
].sort();

const unnamed = (expected: string[]): string[] => expected.map((l) => l.replace(/ \w+$/, '')).sort();

describe('call sites of pool allocations (callsite-pool.c)', () => {
  for (const arch of ARCHES) {
    for (const opt of OPTS) {
      const name = `callsite-pool-${arch}-${opt}` as const;
      it(`${name}: each executable pool request, the run-time pool type, and nothing for the NX calls`, () => {
        expect(lines(checkImage(path(name)))).toEqual(POOL_EXPECTED);
      });
    }
  }

  it('findings carry the call instruction as data: section, RVA, file offset and length, severity', () => {
    for (const arch of ARCHES) {
      const file = path(`callsite-pool-${arch}-o2`);
      const bytes = readFileSync(file);
      const image = parseImage(bufferSource(bytes));
      if (!image.ok) throw image.error;
      const text = image.image.headers.sections.find((s) => s.name === '.text')!;
      for (const f of callsiteFindings(checkImage(file))) {
        expect(f.severity).toBe(f.rule === 'unknown-pool-type' ? 'note' : 'error');
        expect(f.section).toBe('.text');
        expect(f.offset).toBe(text.pointerToRawData + (f.rva! - text.virtualAddress));
        expect(f.length).toBeGreaterThanOrEqual(arch === 'arm64' ? 4 : 2);
        expect(f.args.rva).toBe('0x' + f.rva!.toString(16).toUpperCase());
        expect(String(f.args.site)).toMatch(/^RVA 0x[0-9A-F]+ \(\w+\+0x[0-9A-F]+\)$/);
        if (arch === 'arm64') expect(f.length).toBe(4);
      }
    }
  });

  it('the wording comes from the rule: value and meaning of the constant', () => {
    const f = checkImage(path('callsite-pool-x64-o2')).findings.find((x) => x.args.function === 'AllocExec')!;
    expect(f.message).toMatch(/^ExAllocatePoolWithTag allocates executable memory: PoolType is 0x0, NonPagedPool \(NonPagedPoolExecute\) \(call at RVA 0x[0-9A-F]+ \(AllocExec\+0x[0-9A-F]+\)\)$/);
    const unknown = checkImage(path('callsite-pool-x64-o2')).findings.find((x) => x.rule === 'unknown-pool-type')!;
    expect(unknown.args.why).toBe('loaded from memory');
  });

  it('tail calls: jmp [slot] on x64 and br on ARM64 at /O1 and /O2', () => {
    for (const arch of ['x64', 'arm64'] as const) {
      for (const opt of ['o1', 'o2'] as const) {
        const f = checkImage(path(`callsite-pool-${arch}-${opt}`)).findings.find((x) => plain(x.args.function) === 'AllocTail')!;
        expect(f.args.call, `${arch} ${opt}`).toBe('tail call');
      }
    }
  });

  it('hoisted slot loads at /O2: the slot is loaded into a register once and called through it', () => {
    for (const arch of ARCHES) {
      const many = checkImage(path(`callsite-pool-${arch}-o2`)).findings.filter((x) => plain(x.args.function) === 'AllocMany');
      expect(many).toHaveLength(1);
      expect(many[0]!.args.via, arch).toBe('register');
      expect(many[0]!.args.value).toBe('0x2');
    }
  });

  it('the NX calls are found too, with their constants (the analysis ran, it did not miss them)', () => {
    for (const arch of ARCHES) {
      const bytes = readFileSync(path(`callsite-pool-${arch}-o2`));
      const src = bufferSource(bytes);
      const parsed = parseImage(src);
      if (!parsed.ok) throw parsed.error;
      const a = analyseCallSites(src, parsed.image, CALLSITE_TARGETS);
      const values = a.sites.filter((s) => s.ddi === 'ExAllocatePoolWithTag' && s.arg?.known).map((s) => (s.arg as { value: bigint }).value);
      expect(values).toEqual(expect.arrayContaining([0x200n, 0x204n, 0x0n, 0x2n, 0x4n]));
      expect(a.skipped).toEqual([]);
    }
  });
});

describe('call sites of page protections and MDL mappings (callsite-map.c)', () => {
  for (const arch of ARCHES) {
    for (const opt of OPTS) {
      const name = `callsite-map-${arch}-${opt}` as const;
      it(`${name}: PAGE_EXECUTE* in registers and on the stack, MDL mappings with and without MdlMappingNoExecute`, () => {
        expect(lines(checkImage(path(name)))).toEqual(MAP_EXPECTED);
      });
    }
  }

  it('PAGE_READWRITE | PAGE_NOCACHE and MdlMappingNoExecute give nothing', () => {
    for (const arch of ARCHES) {
      const r = checkImage(path(`callsite-map-${arch}-o2`));
      expect(callsiteFindings(r).filter((f) => f.args.value === '0x204' || f.args.value === '0x40000010')).toEqual([]);
      expect(callsiteFindings(r).map((f) => plain(f.args.function))).not.toContain('MapMdlNx');
      expect(callsiteFindings(r).map((f) => plain(f.args.function))).not.toContain('MapSectionRo');
    }
  });
});

describe('POOL_NX_OPTIN_AUTO=1 (callsite-nxauto.c)', () => {
  for (const arch of ARCHES) {
    for (const opt of ['od', 'o2'] as const) {
      it(`callsite-nxauto-${arch}-${opt}: no call-site finding; the calls were read as NX`, () => {
        const file = path(`callsite-nxauto-${arch}-${opt}`);
        expect(callsiteFindings(checkImage(file))).toEqual([]);
        const src = bufferSource(readFileSync(file));
        const parsed = parseImage(src);
        if (!parsed.ok) throw parsed.error;
        const a = analyseCallSites(src, parsed.image, CALLSITE_TARGETS);
        const known = a.sites.filter((s) => s.arg?.known).map((s) => `${s.ddi}=${(s.arg as { value: bigint }).value.toString(16)}`);
        expect(known).toEqual(expect.arrayContaining(['ExAllocatePoolWithTag=200', 'ExAllocatePoolWithTag=204', 'ExAllocatePool2=40']));
      });
    }
  }
});

describe('import thunks', () => {
  for (const arch of ARCHES) {
    for (const opt of ['od', 'o2'] as const) {
      it(`callsite-thunk-${arch}-${opt}: calls to the jmp [slot] thunks are the call sites`, () => {
        const r = checkImage(path(`callsite-thunk-${arch}-${opt}`));
        expect(lines(r, false)).toEqual(unnamed(POOL_EXPECTED));
        for (const f of callsiteFindings(r)) {
          expect(f.args.via).toBe('thunk');
          expect(String(f.args.call)).toMatch(/via thunk$/);
        }
      });
    }
  }

  const objdump = findTool('llvm-readobj')?.replace(/llvm-readobj/, 'llvm-objdump');
  it.skipIf(objdump === undefined)('/debug keeps thunks nothing calls: no finding for them, the PDB names the functions', async () => {
    for (const arch of ARCHES) {
      const file = path(`callsite-debug-${arch}`);
      const { stdout } = await execa(objdump!, ['-d', '--no-show-raw-insn', file]);
      const thunks = stdout.match(/\t(jmpq\s+\*0x[0-9a-f]+\(%rip\)|jmpl\s+\*0x[0-9a-f]+$|br\s+x16)/gm) ?? [];
      expect(thunks.length, `${arch} has import thunks`).toBeGreaterThan(5);
      const r = checkImage(file);
      // Function names come from the PDB (no map file was kept for these).
      expect(lines(r)).toEqual(POOL_EXPECTED);
      for (const f of callsiteFindings(r)) expect(f.args.via).not.toBe('thunk');
    }
  });
});

describe('long stretches of code without .pdata (callsite-sweep.c)', () => {
  for (const arch of ARCHES) {
    it(`callsite-sweep-${arch}: the calls among hundreds of leaf functions are found, and only they`, () => {
      expect(lines(checkImage(path(`callsite-sweep-${arch}`)))).toEqual([
        'exec-pool-type ExAllocatePoolWithTag 0x0 AllocExecLate',
        'exec-pool-type ExAllocatePoolWithTag 0x4 AllocTailMid',
      ]);
    });
  }
});

describe('the other fixtures', () => {
  it('no call-site finding on any of them, but the three unsafe calls of affected-ddi-x64', async () => {
    for (const name of Object.keys(FIXTURES) as FixtureName[]) {
      const r = checkImage(await buildFixture(name));
      const found = lines(r, false);
      if (name === 'affected-ddi-x64') {
        // NonPagedPoolExecute, PAGE_EXECUTE_READWRITE, NormalPagePriority without MdlMappingNoExecute.
        expect(found).toEqual([
          'exec-mdl-mapping MmMapLockedPagesSpecifyCache 0x10',
          'exec-page-protection ZwAllocateVirtualMemory 0x40',
          'exec-pool-type ExAllocatePoolWithTag 0x0',
        ]);
      } else {
        expect(found, name).toEqual([]);
      }
    }
  });
});

describe('turning the analysis off', () => {
  it('checkImage({ callsites: false }) and rules set to off give no call-site finding', () => {
    const file = path('callsite-pool-x64-o2');
    expect(callsiteFindings(checkImage(file, { callsites: false }))).toEqual([]);
    const off = Object.fromEntries(RULE_IDS.map((id) => [id, 'off' as const]));
    expect(callsiteFindings(checkImage(file, { rules: off }))).toEqual([]);
    // The inventory note stays.
    expect(checkImage(file, { callsites: false }).findings.map((f) => f.rule)).toContain('affected-ddi-import');
  });

  it('hvci-build check --no-callsites', async () => {
    const file = path('callsite-pool-x64-o2');
    const on = await runCli(['check', '--format', 'json', file]);
    expect(on.exitCode).toBe(1);
    expect(JSON.parse(on.stdout).files[0].findings.map((f: Finding) => f.rule)).toContain('exec-pool-type');
    const off = await runCli(['check', '--format', 'json', '--no-callsites', file]);
    expect(off.exitCode).toBe(0);
    const rules: string[] = JSON.parse(off.stdout).files[0].findings.map((f: Finding) => f.rule);
    expect(rules.filter((r) => RULE_IDS.includes(r))).toEqual([]);
  });

  it('hvci-build explain and rules know the four rules', async () => {
    const rules = await runCli(['rules']);
    for (const id of RULE_IDS) expect(rules.stdout).toContain(id);
    const explain = await runCli(['explain', 'exec-pool-type']);
    expect(explain.stdout).toMatch(/NonPagedPoolNx/);
  });
});

describe('iced-x86 snapshot', () => {
  /** Which way a fresh process loads iced-x86 (the built library, as the CLI uses it). */
  const backend = async (env: Record<string, string>): Promise<string> => {
    const lib = pathToFileURL(fileURLToPath(new URL('../dist/callsites/iced.js', import.meta.url))).href;
    const code = `const m = await import(${JSON.stringify(lib)}); const d = m.snapshotDecoder(); d.load(); console.log(d.backend());`;
    return (await execa(process.execPath, ['--input-type=module', '-e', code], { env })).stdout.trim();
  };

  it('a first run through the glue saves it; later runs start from it; a damaged one is replaced; all agree', async () => {
    const dir = tempDir('cache');
    try {
      const file = path('callsite-map-x64-o2');
      const run = async (env: Record<string, string>): Promise<unknown> => {
        const r = await runCli(['check', '--format', 'json', file], { env });
        expect(r.exitCode, r.stderr).toBe(1);
        return JSON.parse(r.stdout).files[0].findings;
      };
      expect(await backend({ HVCI_CACHE_DIR: dir })).toBe('glue');
      expect(readdirSync(dir)).toEqual([]); // loading alone saves nothing: the first analysis does
      const first = await run({ HVCI_CACHE_DIR: dir });
      // The CLI keeps its compiled code there too (*.v8cache).
      const files = readdirSync(dir).filter((f) => !f.endsWith('.v8cache'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^iced-x86-.*\.snapshot$/);
      expect(await backend({ HVCI_CACHE_DIR: dir })).toBe('direct');
      expect(await run({ HVCI_CACHE_DIR: dir })).toEqual(first);
      // Made from another iced-x86 (here: a wasm file of another size): not used.
      const good = readFileSync(join(dir, files[0]!));
      const other = Buffer.from(good.toString('latin1').replace(/"wasmSize":(\d)/, (_m, d: string) => `"wasmSize":${(Number(d) + 1) % 10}`), 'latin1');
      expect(other.equals(good)).toBe(false);
      other.writeUInt32LE(crc32(other.subarray(16)), 12); // a whole file: only the source check refuses it
      writeFileSync(join(dir, files[0]!), other);
      expect(await backend({ HVCI_CACHE_DIR: dir })).toBe('glue');
      writeFileSync(join(dir, files[0]!), good);
      expect(await backend({ HVCI_CACHE_DIR: dir })).toBe('direct');
      // A snapshot of the right size but wrong content: refused, and the glue is used.
      const bytes = Buffer.from(good);
      const rand = prng(7);
      for (let i = 0; i < bytes.length; i += 1 + Math.floor(rand() * 64)) bytes[i] = Math.floor(rand() * 256);
      writeFileSync(join(dir, files[0]!), bytes);
      expect(await backend({ HVCI_CACHE_DIR: dir })).toBe('glue');
      expect(await run({ HVCI_CACHE_DIR: dir })).toEqual(first);
      // It was replaced by the snapshot of a fresh instance, which is deterministic.
      expect(readFileSync(join(dir, files[0]!)).equals(good)).toBe(true);
      expect(await backend({ HVCI_CACHE_DIR: dir, HVCI_NO_CODE_CACHE: '1' })).toBe('glue');
      expect(await run({ HVCI_NO_CODE_CACHE: '1' })).toEqual(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hostile code', () => {
  it('random code bytes never make checkImage throw, and the analysis stays bounded', () => {
    const rand = prng(0xc0de);
    for (const arch of ARCHES) {
      const bytes = readFileSync(path(`callsite-pool-${arch}-o2`));
      const parsed = parseImage(bufferSource(bytes));
      if (!parsed.ok) throw parsed.error;
      const text = parsed.image.headers.sections.find((s) => s.name === '.text')!;
      for (let i = 0; i < 40; i++) {
        const b = Buffer.from(bytes);
        const flips = i < 20 ? 1 + Math.floor(rand() * 64) : text.sizeOfRawData;
        for (let k = 0; k < flips; k++) b[text.pointerToRawData + Math.floor(rand() * text.sizeOfRawData)] = Math.floor(rand() * 256);
        const t0 = performance.now();
        const r = checkImage(b);
        expect(performance.now() - t0).toBeLessThan(2000);
        expect(Array.isArray(r.findings)).toBe(true);
        expect(r.findings.map((f) => f.rule)).not.toContain('unreadable');
      }
    }
  });

  it('a .pdata entry claiming a huge function and a budget that runs out give a note, not a hang', () => {
    const file = path('callsite-pool-x64-o2');
    const src = bufferSource(readFileSync(file));
    const parsed = parseImage(src);
    if (!parsed.ok) throw parsed.error;
    const a = analyseCallSites(src, parsed.image, CALLSITE_TARGETS, { budget: 20 });
    expect(a.skipped).toEqual([expect.objectContaining({ reason: 'budget', limit: 20 })]);

    const b = Buffer.from(readFileSync(file));
    const h = parsed.image.headers;
    const pdata = h.dataDirectories[3]!;
    const sec = h.sections.find((s) => pdata.rva >= s.virtualAddress && pdata.rva < s.virtualAddress + s.virtualSize)!;
    const at = sec.pointerToRawData + (pdata.rva - sec.virtualAddress);
    b.writeUInt32LE(0x7fffffff, at + 4); // EndAddress of the first function
    const r = checkImage(b);
    expect(r.findings.map((f) => f.rule)).not.toContain('unreadable');
  });
});

describe('constants', () => {
  it('pool types and flags, as Microsoft documents them', () => {
    expect(executablePool('ExAllocatePoolWithTag', 0n)).toMatch(/NonPagedPool/);
    expect(executablePool('ExAllocatePoolWithTag', 4n)).toBe('NonPagedPoolCacheAligned');
    expect(executablePool('ExAllocatePoolWithTag', 32n)).toBe('NonPagedPoolSession');
    expect(executablePool('ExAllocatePoolWithTag', 0x200n)).toBeUndefined();
    expect(executablePool('ExAllocatePoolWithTag', 0x204n)).toBeUndefined();
    expect(executablePool('ExAllocatePoolWithTag', 0x220n)).toBeUndefined(); // NonPagedPoolSessionNx
    expect(executablePool('ExAllocatePoolWithTag', 1n)).toBeUndefined(); // PagedPool
    expect(executablePool('ExAllocatePoolWithTag', 0x10n)).toMatch(/without NonPagedPoolNx/); // with POOL_RAISE_IF_ALLOCATION_FAILURE
    expect(executablePool('ExAllocatePool2', 0x80n)).toMatch(/POOL_FLAG_NON_PAGED_EXECUTE/);
    expect(executablePool('ExAllocatePool2', 0x40n)).toBeUndefined();
    expect(executablePool('ExAllocatePool2', 0x100n)).toBeUndefined();
    expect(executablePool('ExInitializeNPagedLookasideList', 0x10n)).toMatch(/POOL_NX_ALLOCATION/);
    expect(executablePool('ExInitializeNPagedLookasideList', 0x210n)).toBeUndefined();
  });

  it('page protections', () => {
    expect(executableProtection(0x40n)).toBe('PAGE_EXECUTE_READWRITE');
    expect(executableProtection(0x240n)).toBe('PAGE_EXECUTE_READWRITE | PAGE_NOCACHE');
    expect(executableProtection(0x10n)).toBe('PAGE_EXECUTE');
    expect(executableProtection(0x80n)).toBe('PAGE_EXECUTE_WRITECOPY');
    expect(executableProtection(0x204n)).toBeUndefined();
    expect(executableProtection(0x02n)).toBeUndefined();
  });

  it('ARM64 bitmask immediates (mov w0, #0x200 is orr w0, wzr, #0x200)', () => {
    // orr w0, wzr, #0x200: N=0, immr=23, imms=0
    expect(decodeBitMask(0, 0, 23, 32)).toBe(0x200n);
    // orr x0, xzr, #0xffff0000ffff: N=0 immr=0 imms=0b101111 (16 ones, element 32)
    expect(decodeBitMask(0, 0b001111, 0, 64)).toBe(0x0000ffff0000ffffn);
    expect(decodeBitMask(1, 0b111111, 0, 64)).toBeUndefined(); // all ones: reserved
    expect(decodeBitMask(0, 0b111100, 0, 32)).toBe(0x55555555n);
  });
});
