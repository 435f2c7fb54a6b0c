/**
 * Call sites in the code shapes real compilers emit: Control Flow Guard, retpoline, function
 * tables, whole-program optimisation, MSVC's idioms (written out in assembly where only MSVC
 * emits them), and ARM32. Each asserts the exact findings (rule, DDI, value, severity) and
 * that each finding sits on a call or jump instruction of the image.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseCallSites } from '../src/callsites/index.js';
import { codeSections, scanAbsolute, scanRipRelative, slotBounds } from '../src/callsites/code.js';
import { checkImage } from '../src/check-image.js';
import type { Finding } from '../src/findings.js';
import { parseImage } from '../src/pe/image.js';
import { bufferSource } from '../src/pe/source.js';
import { CALLSITE_TARGETS } from '../src/rules/unknown-pool-type.js';
import { buildFixtures, CALLSITE_FIXTURES, type CallsiteFixtureName } from './fixtures/build.js';

const RULE_IDS = ['exec-pool-type', 'exec-page-protection', 'exec-mdl-mapping', 'unknown-pool-type', 'skipped-check'];
const ARCHES = ['x64', 'x86', 'arm64'] as const;
const paths = new Map<CallsiteFixtureName, string>();
const path = (name: CallsiteFixtureName): string => paths.get(name)!;

beforeAll(async () => {
  for (const [name, file] of await buildFixtures(Object.keys(CALLSITE_FIXTURES) as CallsiteFixtureName[])) paths.set(name, file);
}, 600_000);

/** rule, DDI, value (or the untracked use), severity: one line per finding of the call-site rules. */
function lines(file: string): string[] {
  return checkImage(file)
    .findings.filter((f) => RULE_IDS.includes(f.rule))
    .map((f) => [f.rule, f.args.ddi ?? '', f.args.value ?? f.args.use ?? f.args.why ?? '', f.severity].join(' '))
    .sort();
}

/** A call or jump instruction starts at the finding's file offset (x86/x64 E8, E9, FF /2 /4, REX FF; ARM64 bl, b, blr, br). */
function onBranch(file: string, f: Finding, arch: string): boolean {
  const b = readFileSync(file);
  const at = f.offset!;
  if (arch === 'arm64') {
    const w = b.readUInt32LE(at) >>> 0;
    return (w & 0x7c000000) >>> 0 === 0x14000000 || (w & 0xfffffc1f) >>> 0 === 0xd63f0000 || (w & 0xfffffc1f) >>> 0 === 0xd61f0000;
  }
  let i = at;
  if ((b[i]! & 0xf0) === 0x40 && arch === 'x64') i++;
  if (b[i] === 0xe8 || b[i] === 0xe9) return true;
  return b[i] === 0xff && [2, 4].includes((b[i + 1]! >> 3) & 7);
}

function expectOnBranches(name: CallsiteFixtureName, arch: string): void {
  const r = checkImage(path(name));
  const sites = r.findings.filter((f) => f.rule.startsWith('exec-') || (f.rule === 'unknown-pool-type' && f.args.use === undefined));
  expect(sites.length, name).toBeGreaterThan(0);
  for (const f of sites) expect(onBranch(path(name), f, arch), `${name} ${f.message}`).toBe(true);
}

describe('Control Flow Guard (/guard:cf): the guard functions come from the load configuration', () => {
  for (const arch of ARCHES) {
    it(`callsite-cfg-${arch}: the guarded call through a pointer to ExAllocatePoolWithTag(NonPagedPool) is an error; the NX one gives nothing`, () => {
      expect(lines(path(`callsite-cfg-${arch}`))).toEqual(['exec-pool-type ExAllocatePoolWithTag 0x0 error']);
      expectOnBranches(`callsite-cfg-${arch}`, arch);
    });
    it(`callsite-cfgtable-${arch}: the pointer call through the thunk's address is an error, the table in .data a note`, () => {
      expect(lines(path(`callsite-cfgtable-${arch}`))).toEqual([
        'exec-pool-type ExAllocatePoolWithTag 0x0 error',
        'unknown-pool-type ExAllocatePoolWithTag in-data note',
      ]);
    });
    it(`callsite-table-${arch}: without CFG, the same`, () => {
      expect(lines(path(`callsite-table-${arch}`))).toEqual([
        'exec-pool-type ExAllocatePoolWithTag 0x0 error',
        'unknown-pool-type ExAllocatePoolWithTag in-data note',
      ]);
    });
  }

  it('without the load configuration the dispatch call is not recognised: the reference is still reported, never dropped', () => {
    // The same image with the load configuration directory emptied.
    const b = Buffer.from(readFileSync(path('callsite-cfg-x64')));
    const parsed = parseImage(bufferSource(b));
    if (!parsed.ok) throw parsed.error;
    const entry = parsed.image.headers.dataDirectories[10]!.entryOffset;
    b.writeUInt32LE(0, entry);
    b.writeUInt32LE(0, entry + 4);
    const r = checkImage(b);
    const notes = r.findings.filter((f) => f.rule === 'unknown-pool-type');
    expect(notes.map((f) => f.args.use)).toEqual(['unused', 'unused']);
    expect(r.findings.map((f) => f.rule)).not.toContain('exec-pool-type');
  });
});

describe('retpoline (-mretpoline): thunks recognised by their code', () => {
  for (const arch of ['x64', 'x86'] as const) {
    it(`callsite-retpoline-${arch}: the call through __llvm_retpoline_* is an error`, () => {
      expect(lines(path(`callsite-retpoline-${arch}`))).toEqual(['exec-pool-type ExAllocatePoolWithTag 0x0 error']);
      expectOnBranches(`callsite-retpoline-${arch}`, arch);
    });
  }
});

describe('whole-program optimisation (-flto, for MSVC /GL)', () => {
  for (const arch of ARCHES) {
    it(`callsite-lto-${arch}: every executable request is an error, the run-time pool type a note`, () => {
      const got = lines(path(`callsite-lto-${arch}`));
      for (const want of [
        'exec-pool-type ExAllocatePool 0x0 error',
        'exec-pool-type ExAllocatePool2 0x80 error',
        'exec-pool-type ExAllocatePool3 0x80 error',
        'exec-pool-type ExAllocatePoolWithQuotaTag 0x0 error',
        'exec-pool-type ExAllocatePoolWithTag 0x0 error',
        'exec-pool-type ExAllocatePoolWithTag 0x2 error',
        'exec-pool-type ExAllocatePoolWithTag 0x4 error',
        'exec-pool-type ExAllocatePoolWithTagPriority 0x4 error',
        'exec-pool-type ExInitializeLookasideListEx 0x0 error',
        'exec-pool-type ExInitializeNPagedLookasideList 0x0 error',
        'unknown-pool-type ExAllocatePoolWithTag loaded from memory note',
      ]) {
        expect(got, arch).toContain(want);
      }
      // Nothing else: no NX call is reported, no reference is left unexplained.
      expect(got.filter((l) => !l.includes(' 0x') && !l.includes('loaded from memory'))).toEqual([]);
      expectOnBranches(`callsite-lto-${arch}`, arch);
    });
  }
});

describe("MSVC's code shapes", () => {
  it('callsite-msvc-x64: and/or stores of 0 and -1, a constant kept in rbp across blocks, a KeBugCheckEx path', () => {
    expect(lines(path('callsite-msvc-x64'))).toEqual([
      'exec-mdl-mapping MmMapLockedPagesSpecifyCache 0x10 error',
      'exec-page-protection MmProtectMdlSystemAddress 0x40 error',
      'exec-pool-type ExAllocatePoolWithTag 0x0 error',
    ]);
    expectOnBranches('callsite-msvc-x64', 'x64');
  });
  it('callsite-msvc-x86: a register zeroed at the function start and pushed in a later block', () => {
    expect(lines(path('callsite-msvc-x86'))).toEqual([
      'exec-mdl-mapping MmMapLockedPagesSpecifyCache 0x10 error',
      'exec-pool-type ExAllocatePoolWithTag 0x0 error',
    ]);
    expectOnBranches('callsite-msvc-x86', 'x86');
  });
});

describe('ARM32 (Thumb-2)', () => {
  it('callsite-pool-arm: the calls are not analysed, and a note says so', () => {
    const r = checkImage(path('callsite-pool-arm'));
    const skipped = r.findings.filter((f) => f.rule === 'skipped-check');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.message).toMatch(/calls in arm code are not analysed: the calls to .*ExAllocatePoolWithTag.* were not checked/);
  });
});

describe('fail closed: every slot reference the byte scan finds is accounted for', () => {
  it('on every x64 and x86 call-site fixture, each candidate lies in an instruction the analysis followed to a call or reported', () => {
    let checked = 0;
    for (const name of Object.keys(CALLSITE_FIXTURES) as CallsiteFixtureName[]) {
      const arch = CALLSITE_FIXTURES[name].arch;
      if (arch !== 'x64' && arch !== 'x86') continue;
      const bytes = readFileSync(path(name));
      const src = bufferSource(bytes);
      const parsed = parseImage(src);
      if (!parsed.ok) throw parsed.error;
      const image = parsed.image;
      const a = analyseCallSites(src, image, CALLSITE_TARGETS);
      const wanted = new Set(CALLSITE_TARGETS.map((t) => t.ddi));
      const slots = new Set(image.imports.flatMap((m) => m.functions.filter((f) => f.name && wanted.has(f.name)).map((f) => f.slotRva)));
      const base = Number(image.headers.imageBase);
      for (const c of codeSections(src, image.headers)) {
        const { lo, hi } = slotBounds(slots);
        const found = arch === 'x64' ? scanRipRelative(c, slots, lo, hi) : scanAbsolute(c, new Set([...slots].map((s) => (s + base) >>> 0)));
        for (const cand of found) {
          const ref = a.references.find((r) => r.rva <= cand && cand < r.rva + r.length);
          expect(ref, `${name}: reference at RVA 0x${cand.toString(16)}`).toBeDefined();
          const reported = a.untracked.some((u) => u.rva >= ref!.rva && u.rva < ref!.rva + ref!.length) || ref!.uses.length > 1;
          expect(ref!.uses.includes('call') || reported, `${name}: 0x${cand.toString(16)} ${ref!.uses.join()}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('decoding never starts inside an instruction', () => {
  /** The image with .pdata entry `k`'s BeginAddress moved by `delta`. */
  const withPdataStart = (name: CallsiteFixtureName, k: number, to: (begin: number, end: number) => number): Buffer => {
    const b = Buffer.from(readFileSync(path(name)));
    const parsed = parseImage(bufferSource(b));
    if (!parsed.ok) throw parsed.error;
    const h = parsed.image.headers;
    const dir = h.dataDirectories[3]!;
    const sec = h.sections.find((s) => dir.rva >= s.virtualAddress && dir.rva < s.virtualAddress + s.virtualSize)!;
    const at = sec.pointerToRawData + (dir.rva - sec.virtualAddress) + 12 * k;
    b.writeUInt32LE(to(b.readUInt32LE(at), b.readUInt32LE(at + 4)), at);
    return b;
  };
  const callFindings = (r: ReturnType<typeof checkImage>): string[] =>
    r.findings.filter((f) => RULE_IDS.includes(f.rule)).map((f) => `${f.rule} ${String(f.args.ddi)} ${String(f.args.value ?? f.args.why ?? '')} ${f.rva}`).sort();

  it('a .pdata start moved into the middle of the first function: same findings as the intact image', () => {
    const intact = callFindings(checkImage(path('callsite-pool-x64-o2')));
    // AllocExec: 0x1009 is `mov r8d, imm32` (41 B8 ..); 0x100A decodes in step as `mov eax, imm32` and would lose ecx = 0.
    const moved = callFindings(checkImage(withPdataStart('callsite-pool-x64-o2', 0, (begin) => begin + 0xa)));
    expect(moved).toEqual(intact);
    expect(intact).toContain('exec-pool-type ExAllocatePoolWithTag 0x0 ' + 0x100f);
  });

  it('overlapping entries: a later entry starting inside an earlier function decodes from the earlier start', () => {
    const intact = callFindings(checkImage(path('callsite-pool-x64-o2')));
    // Entry 1 (AllocNx) is made to start inside AllocExec, 10 bytes in, and to run to its own end.
    const b = withPdataStart('callsite-pool-x64-o2', 1, (begin) => begin - 0x26);
    expect(callFindings(checkImage(b))).toEqual(intact);
  });
});

describe('packed code', () => {
  it('an executable section with no data in the file gets a note naming it, never silence', () => {
    const b = Buffer.from(readFileSync(path('callsite-pool-x64-o2')));
    const parsed = parseImage(bufferSource(b));
    if (!parsed.ok) throw parsed.error;
    const h = parsed.image.headers;
    // Section headers follow the optional header; SizeOfRawData is at +16 in each 40-byte header.
    const first = h.peOffset + 24 + b.readUInt16LE(h.peOffset + 20);
    const text = h.sections.findIndex((s) => s.name === '.text');
    b.writeUInt32LE(0, first + 40 * text + 16);
    const notes = checkImage(b).findings.filter((f) => f.rule === 'skipped-check');
    expect(notes.map((f) => f.message)).toEqual([expect.stringMatching(/^section \.text is executable but holds no data in the file .*ExAllocatePoolWithTag/)]);
  });
});
