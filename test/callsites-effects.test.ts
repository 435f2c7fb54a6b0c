/**
 * The call-site analysis at the level of instruction sequences: each form is assembled by
 * llvm-mc-19 (Intel syntax), decoded by the x86 front end and run through the data flow,
 * without building a driver. The code sits at RVA 0x1000; `slot` (RVA 0x1800) is the IAT
 * slot of the DDI under test, `bug` (0x1808) that of KeBugCheckEx, `check` (0x1810) the CFG
 * check function pointer.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { analyseRegion, type RegionResult } from '../src/callsites/calls.js';
import { glueDecoder } from '../src/callsites/iced.js';
import type { ImageFacts, SpecialSlot } from '../src/callsites/interpret.js';
import type { CallTarget } from '../src/callsites/types.js';
import { X64, X86, x86Frontend } from '../src/callsites/x86.js';
import { ARM64, arm64Frontend } from '../src/callsites/arm64.js';
import { tempDir } from './helpers/toolchain.js';

const BASE = 0x1000;
const SLOT = 0x1800;
// From Debian's llvm-19, which the toolchain install brings.
const mc = 'llvm-mc-19';
const objcopy = 'llvm-objcopy-19';

async function assemble(body: string, bits: 32 | 64): Promise<Uint8Array> {
  const dir = tempDir('mc');
  const s = join(dir, 'a.s');
  // The slots follow the code at fixed offsets; x86 references them by absolute address.
  writeFileSync(s, `.intel_syntax noprefix\n.text\n${body}\n.org 0x800\nslot: .quad 0\nbug: .quad 0\ncheck: .quad 0\n`);
  await execa(mc, ['-filetype=obj', `-triple=${bits === 64 ? 'x86_64' : 'i686'}-pc-linux`, s, '-o', join(dir, 'a.o')]);
  await execa(objcopy, ['-O', 'binary', '--only-section=.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
  return readFileSync(join(dir, 'a.bin'));
}

interface Run {
  result: RegionResult;
  /** Work charged, in instructions. */
  work: number;
  count: number;
}

async function analyse(body: string, target: CallTarget, bits: 32 | 64 = 64, budget = 2_000_000): Promise<Run> {
  const bytes = await assemble(bits === 32 ? body.replace(/\[rip \+ (\w+)\]/g, '[$1]') : body, bits);
  // The object is not linked: x86 absolute addresses hold the offset from the code's start,
  // so the image base is taken as -BASE to make them RVAs (and no immediate is an address).
  const fe = x86Frontend(glueDecoder.load(), bits, bits === 64 ? 0n : -BigInt(BASE), 0);
  try {
    const code = { bytes, start: BASE };
    const left = { left: budget };
    const insns = fe.decode(code, BASE, BASE + 0x800, left);
    const special = new Map<number, SpecialSlot>([
      [SLOT + 8, 'noreturn'],
      [SLOT + 16, 'check'],
    ]);
    const facts: ImageFacts = {
      machine: bits === 64 ? X64 : X86,
      slots: new Map([[SLOT, { ddi: target.ddi, dll: 'ntoskrnl.exe' }]]),
      special,
      thunks: new Map(),
      noreturnThunks: new Set(),
    };
    const before = left.left;
    const result = analyseRegion({ insns, facts, targets: new Map([[target.ddi, target]]), entries: new Set() }, left);
    return { result, work: before - left.left, count: insns.length };
  } finally {
    fe.dispose();
  }
}

const POOL: CallTarget = { ddi: 'ExAllocatePoolWithTag', param: { index: 0, name: 'PoolType' } };
const MDL: CallTarget = { ddi: 'MmMapLockedPagesSpecifyCache', param: { index: 5, name: 'Priority' } };
const PROTECT: CallTarget = { ddi: 'MmProtectMdlSystemAddress', param: { index: 1, name: 'NewProtect' } };
const argsOf = (r: Run): unknown[] => r.result.calls.map((c) => (c.arg?.known ? c.arg.value : c.arg?.reason));

describe('memory writes of MSVC idioms', () => {
  it('`and dword ptr [rsp+20h], 0` stores 0 and forgets nothing else (the priority at [rsp+28h] survives)', async () => {
    const r = await analyse('sub rsp, 0x38\nmov dword ptr [rsp+0x28], 0x10\nand dword ptr [rsp+0x20], 0\ncall qword ptr [rip + slot]\nret', MDL);
    expect(argsOf(r)).toEqual([0x10n]);
  });
  it('`or dword ptr [rsp+28h], -1` stores 0xFFFFFFFF', async () => {
    const r = await analyse('sub rsp, 0x38\nor dword ptr [rsp+0x28], -1\ncall qword ptr [rip + slot]\nret', MDL);
    expect(argsOf(r)).toEqual([0xffffffffn]);
  });
  it('`and` with another value is a write of its size: the slot becomes unknown, its neighbour stays', async () => {
    const r = await analyse('sub rsp, 0x38\nmov dword ptr [rsp+0x28], 0x10\nmov dword ptr [rsp+0x2c], 0\nand dword ptr [rsp+0x2c], 7\ncall qword ptr [rip + slot]\nret', MDL);
    expect(argsOf(r)).toEqual([0x10n]);
  });
});

describe('values across blocks', () => {
  it('x64: a constant kept in ebp from an earlier block; lea edx, [rbp+5Bh] is 0x40', async () => {
    const r = await analyse('push rbp\nsub rsp, 0x20\nmov ebp, 0xFFFFFFE5\ntest rcx, rcx\nje 1f\nlea edx, [rbp+0x5b]\ncall qword ptr [rip + slot]\n1:\nadd rsp, 0x20\npop rbp\nret', PROTECT);
    expect(argsOf(r)).toEqual([0x40n]);
  });
  it('x86: xor ebx, ebx at the start, push ebx in a later block', async () => {
    const r = await analyse('push ebx\nxor ebx, ebx\ncmp dword ptr [esp+8], ebx\nje 1f\npush 0x636c6148\npush 16\npush ebx\ncall dword ptr [rip + slot]\n1:\npop ebx\nret', POOL, 32);
    expect(argsOf(r)).toEqual([0n]);
  });
  it('values that differ between paths are not constants', async () => {
    const r = await analyse('test ecx, ecx\nje 1f\nmov ecx, 0x200\njmp 2f\n1:\nxor ecx, ecx\n2:\nsub rsp, 0x28\ncall qword ptr [rip + slot]\nadd rsp, 0x28\nret', POOL);
    expect(argsOf(r)).toEqual(['differs-by-path']);
  });
  it('a path through a call that never returns does not reach the next block', async () => {
    const body = 'push rsi\nsub rsp, 0x30\ntest ecx, ecx\nje 2f\nmov rsi, qword ptr [rip + slot]\njmp 3f\n2:\nmov ecx, 0xe2\ncall qword ptr [rip + bug]\n3:\nxor ecx, ecx\ncall rsi\nadd rsp, 0x30\npop rsi\nret';
    const r = await analyse(body, POOL);
    expect(argsOf(r)).toEqual([0n]);
    expect(r.result.calls[0]!.via).toBe('register');
  });
});

describe('guarded and indirect calls', () => {
  it('x86 CFG: the check call keeps ecx and the pushed arguments', async () => {
    const r = await analyse('mov esi, dword ptr [rip + slot]\npush 0x636c6148\npush 16\npush 0\nmov ecx, esi\ncall dword ptr [rip + check]\ncall esi\nret', POOL, 32);
    expect(argsOf(r)).toEqual([0n]);
  });
  it('a retpoline thunk called with the target in r11 is a call through r11', async () => {
    const thunk = 'thunk:\ncall 1f\n2:\npause\nlfence\njmp 2b\n.p2align 4, 0xcc\n1:\nmov qword ptr [rsp], r11\nret';
    const r = await analyse(`sub rsp, 0x28\nmov r11, qword ptr [rip + slot]\nxor ecx, ecx\ncall thunk\nadd rsp, 0x28\nret\nint3\n${thunk}`, POOL);
    expect(argsOf(r)).toEqual([0n]);
  });
  it("the slot's value stored to a global is reported as stored, not dropped", async () => {
    const r = await analyse('mov rax, qword ptr [rip + slot]\nmov qword ptr [rip + check + 0x100], rax\nxor eax, eax\nret', POOL);
    expect([...r.result.refs.values()].map((x) => [...x.uses])).toEqual([['stored']]);
  });
});

describe('bounded work on hostile code', () => {
  it('a call through the slot followed by 8,000 jmp rax costs work linear in the instructions', async () => {
    const r = await analyseLong('jmp rax\n'.repeat(8000));
    expect(r.count).toBeGreaterThan(8000);
    expect(r.work).toBeLessThan(r.count * 8);
  });
  it('80,000 pushes in one block: the stack kept per state is bounded, the work linear', async () => {
    const r = await analyseLong('push rax\n'.repeat(80000));
    expect(r.count).toBeGreaterThan(80000);
    expect(r.work).toBeLessThan(r.count * 8);
  });
});

/** Code longer than the slot area: the slot is placed after the code. */
async function analyseLong(filler: string): Promise<Run> {
  const dir = mkdtempSync(join(tempDir('mc-long'), 'x'));
  const s = join(dir, 'a.s');
  writeFileSync(s, `.intel_syntax noprefix\n.text\ncall qword ptr [rip + slot]\n${filler}ret\nslot: .quad 0\n`);
  await execa(mc, ['-filetype=obj', '-triple=x86_64-pc-linux', s, '-o', join(dir, 'a.o')]);
  await execa(objcopy, ['-O', 'binary', '--only-section=.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
  const bytes = readFileSync(join(dir, 'a.bin'));
  const slot = BASE + bytes.length - 8;
  const fe = x86Frontend(glueDecoder.load(), 64, 0n, 0);
  try {
    const left = { left: 10_000_000 };
    const insns = fe.decode({ bytes, start: BASE }, BASE, slot, left);
    const facts: ImageFacts = {
      machine: X64,
      slots: new Map([[slot, { ddi: POOL.ddi, dll: 'ntoskrnl.exe' }]]),
      special: new Map(),
      thunks: new Map(),
      noreturnThunks: new Set(),
    };
    const before = left.left;
    const result = analyseRegion({ insns, facts, targets: new Map([[POOL.ddi, POOL]]), entries: new Set() }, left);
    expect(result.complete).toBe(true);
    return { result, work: before - left.left, count: insns.length };
  } finally {
    fe.dispose();
  }
}

/** ARM64: the slots after the code at 0x800 (RVA 0x1800), loaded with `ldr xN, slot` (PC-relative). */
async function analyseArm64(body: string, target: CallTarget): Promise<RegionResult> {
  const dir = tempDir('mc-arm64');
  const s = join(dir, 'a.s');
  writeFileSync(s, `${body}\n.p2align 11\nslot: .quad 0\nbug: .quad 0\ncheck: .quad 0\n`);
  await execa(mc, ['-filetype=obj', '-triple=aarch64-linux', s, '-o', join(dir, 'a.o')]);
  await execa(objcopy, ['-O', 'binary', '--only-section=.text', join(dir, 'a.o'), join(dir, 'a.bin')]);
  const bytes = readFileSync(join(dir, 'a.bin'));
  const left = { left: 100_000 };
  const insns = arm64Frontend.decode({ bytes, start: BASE }, BASE, BASE + 0x800, left);
  const facts: ImageFacts = {
    machine: ARM64,
    slots: new Map([[SLOT, { ddi: target.ddi, dll: 'ntoskrnl.exe' }]]),
    special: new Map<number, SpecialSlot>([
      [SLOT + 8, 'noreturn'],
      [SLOT + 16, 'check'],
    ]),
    thunks: new Map(),
    noreturnThunks: new Set(),
  };
  return analyseRegion({ insns, facts, targets: new Map([[target.ddi, target]]), entries: new Set() }, left);
}

describe('ARM64 instruction sequences', () => {
  const args = (r: RegionResult): unknown[] => r.calls.map((c) => (c.arg?.known ? c.arg.value : c.arg?.reason));
  it('a constant set before a branch reaches the call after the join', async () => {
    expect(args(await analyseArm64('mov w0, #0\ncbz x1, 1f\nmov w2, #1\n1:\nldr x16, slot\nblr x16\nret', POOL))).toEqual([0n]);
  });
  it("a 32-bit literal in the code (MSVC's `ldr w5, =0x40000010`) is that constant", async () => {
    const body = 'ldr w5, lit\nldr x16, slot\nblr x16\nret\nlit: .word 0x40000010';
    expect(args(await analyseArm64(body, MDL))).toEqual([0x40000010n]);
  });
  it('CFG: blr of the check function keeps x0 and x15; blr x15 is the call', async () => {
    const body = 'mov w0, #0\nldr x15, slot\nldr x9, check\nblr x9\nblr x15\nret';
    expect(args(await analyseArm64(body, POOL))).toEqual([0n]);
  });
  it('an unknown function called in between clobbers x15: the call is lost, and the load is left unused (a note)', async () => {
    const body = 'mov w0, #0\nldr x15, slot\nldr x9, check + 8\nblr x9\nblr x15\nret';
    const r = await analyseArm64(body, POOL);
    expect(r.calls).toEqual([]);
    expect([...r.refs.values()].map((x) => x.uses.size)).toEqual([0]);
  });
});
