/**
 * x86 and x64 instructions, decoded by iced-x86, in the form of ./ir.ts. The few
 * instruction forms that move constants and slot values around are modelled; for every
 * other instruction iced's InstructionInfoFactory says which registers and memory it
 * writes, and those become unknown.
 */
import { retpolineRegister } from './retpoline.js';
import { CMOV_SET, type IcedApi, type IcedDecoder, type IcedInfoFactory, type IcedInstruction } from './iced-api.js';
import {
  BASE_ABS,
  BASE_OTHER,
  FLOW_CALL,
  FLOW_COND_JUMP,
  FLOW_INDIRECT_CALL,
  FLOW_INDIRECT_JUMP,
  FLOW_JUMP,
  FLOW_NEXT,
  FLOW_RETURN,
  FLOW_STOP,
  FROM_MEMORY,
  MASK64,
  STACK,
  addrVal,
  bit,
  constVal,
  type CodeBytes,
  type Effect,
  type Frontend,
  type Insn,
  type Machine,
  type Val,
} from './ir.js';

/** Shared by the many instructions that change nothing the analysis follows. */
const NO_EFFECTS: Effect[] = [];

const RSP = 4;
const RBP = 5;

export const X64: Machine = {
  sp: RSP,
  fp: RBP,
  ptrSize: 8,
  // rax, rcx, rdx, r8-r11 (Microsoft x64 calling convention).
  volatile: bit(0) | bit(1) | bit(2) | bit(8) | bit(9) | bit(10) | bit(11),
  argRegs: [1, 2, 8, 9],
  // Parameter i >= 4 is at [rsp + 8*i] at a call (past the 32-byte home area); a tail jump
  // leaves the return address at [rsp].
  stackArg: (i, tail) => 8 * i + (tail ? 8 : 0),
  calleeArea: 0x20,
  regCount: 16,
};

export const X86: Machine = {
  sp: RSP,
  fp: RBP,
  ptrSize: 4,
  volatile: bit(0) | bit(1) | bit(2),
  argRegs: [],
  // stdcall: every parameter on the stack, the first at [esp].
  stackArg: (slot, tail) => 4 * slot + (tail ? 4 : 0),
  calleeArea: undefined,
  regCount: 16,
};

// iced's Register enum: AL..R15L = 1..20 (AH, CH, DH, BH at 5..8), AX..R15W = 21..36,
// EAX..R15D = 37..52, RAX..R15 = 53..68.
function gpr(reg: number): { r: number; w: number } | undefined {
  if (reg >= 53 && reg <= 68) return { r: reg - 53, w: 8 };
  if (reg >= 37 && reg <= 52) return { r: reg - 37, w: 4 };
  if (reg >= 21 && reg <= 36) return { r: reg - 21, w: 2 };
  if (reg >= 1 && reg <= 4) return { r: reg - 1, w: 1 };
  if (reg >= 5 && reg <= 8) return { r: reg - 5, w: 1 };
  if (reg >= 9 && reg <= 20) return { r: reg - 5, w: 1 };
  return undefined;
}

const WRITE_ACCESS = new Set([3, 4, 5, 6]); // Write, CondWrite, ReadWrite, ReadCondWrite

/**
 * `sizeOfImage` lets x86 code's 32-bit immediates that are addresses inside the image
 * (`mov eax, offset thunk`, `push offset table`) be followed as addresses, not constants.
 */
export function x86Frontend(iced: IcedApi, bitness: 32 | 64, imageBase: bigint, sizeOfImage = 0): Frontend {
  const M = iced.Mnemonic;
  const K = iced.OpKind;
  const F = iced.FlowControl;
  const R = iced.Register;
  // Made on first use: many functions need no instruction the frontend does not model.
  let factory: IcedInfoFactory | undefined;
  const ptr = bitness === 64 ? 8 : 4;
  const NO_EFFECT = new Set<number>([
    M.Cmp, M.Test, M.Bt, M.Nop, M.Pause, M.Lfence, M.Mfence, M.Sfence, M.Prefetchnta, M.Prefetcht0,
    M.Prefetcht1, M.Prefetcht2, M.Prefetchw, M.Clc, M.Stc, M.Cmc, M.Cld, M.Std, M.Endbr64, M.Endbr32,
  ]);
  // Instructions whose only register write is operand 0 (and the flags): no need to ask
  // iced's InstructionInfoFactory, whose first use alone costs milliseconds.
  const WRITES_OP0 = new Set<number>(
    [
      M.Shl, M.Shr, M.Sar, M.Rol, M.Ror, M.Inc, M.Dec, M.Neg, M.Not, M.Movzx, M.Movsx, M.Movsxd, M.Bswap, M.Lzcnt,
      M.Tzcnt, M.Popcnt, M.Bsf, M.Bsr, M.Adc, M.Sbb, M.Andn, M.Shld, M.Shrd, M.Btc, M.Btr, M.Bts,
      ...CMOV_SET.map((name) => M[name]),
    ],
  );


  /** A 32-bit immediate: an address when it lies inside the image (x86 only), else a constant. */
  const immVal = (v: bigint): Val => {
    if (bitness === 32 && v >= imageBase && v < imageBase + BigInt(sizeOfImage)) return addrVal(Number(v - imageBase));
    return constVal(v);
  };
  /** An absolute address (VA) as an RVA, or -1 outside the 32-bit range of RVAs. */
  const vaToRva = (va: bigint): number => {
    const rva = va - imageBase;
    return rva >= 0n && rva < 0x100000000n ? Number(rva) : -1;
  };

  interface Mem {
    base: number;
    disp: number;
    indexed: boolean;
    /** RVA for absolute and RIP-relative operands, else -1. */
    abs: number;
  }

  const mem = (ins: IcedInstruction): Mem => {
    if (ins.isIpRelMemoryOperand) {
      const rva = Number(ins.ipRelMemoryAddress & 0xffffffffn);
      return { base: BASE_ABS, disp: rva, indexed: false, abs: rva };
    }
    const seg = ins.memorySegment;
    if (seg === R.FS || seg === R.GS) return { base: BASE_OTHER, disp: 0, indexed: true, abs: -1 };
    const baseReg = ins.memoryBase;
    const indexReg = ins.memoryIndex;
    const raw = ins.memoryDisplacement;
    const disp = Number(bitness === 64 ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw));
    if (baseReg === R.None && indexReg === R.None) {
      const va = bitness === 64 ? BigInt.asUintN(64, raw) : BigInt.asUintN(32, raw);
      const rva = vaToRva(va);
      return { base: rva >= 0 ? BASE_ABS : BASE_OTHER, disp: rva, indexed: false, abs: rva };
    }
    const b = gpr(baseReg);
    if (b && b.w === ptr) return { base: b.r, disp, indexed: indexReg !== R.None, abs: -1 };
    return { base: BASE_OTHER, disp: 0, indexed: true, abs: -1 };
  };

  const immOf = (ins: IcedInstruction, op: number): bigint => BigInt.asUintN(64, ins.immediate(op)) & MASK64;
  const isImm = (kind: number): boolean => kind >= K.Immediate8 && kind <= K.Immediate32to64;
  const immSize = (kind: number): number => {
    switch (kind) {
      case K.Immediate8:
        return 1;
      case K.Immediate16:
        return 2;
      case K.Immediate32:
        return 4;
      default:
        return 8;
    }
  };
  const w32For = (w: number): boolean => bitness === 64 && w === 4;
  const sizeMask = (size: number | undefined): bigint => (size === undefined ? MASK64 : (1n << BigInt(size * 8)) - 1n);

  // The bytes of the instruction being decoded, for what iced's trimmed API does not say.
  // Set per instruction without an object: decoding is the hot loop.
  let curBytes: Uint8Array = new Uint8Array(0);
  let curAt = 0;
  /**
   * Operand size of an ALU or one-operand instruction with a memory destination, from its
   * encoding: the byte forms (opcodes with the low bit clear in 00-3F, 80, 82, C0, D0, D2,
   * F6, FE; setcc) write 1 byte; otherwise 66 makes 2, REX.W 8, else 4. Undefined when
   * the encoding is not one of these (the write is then taken as the widest).
   */
  const operandSize = (ins: IcedInstruction): number | undefined => {
    const bytes = curBytes;
    const at = curAt;
    const end = Math.min(bytes.length, at + ins.length);
    let i = at;
    let opsize = false;
    let rexW = false;
    for (; i < end; i++) {
      const b = bytes[i]!;
      if (b === 0x66) opsize = true;
      else if (b === 0xf0 || b === 0xf2 || b === 0xf3 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65 || b === 0x67) continue;
      else break;
    }
    if (bitness === 64 && i < end && (bytes[i]! & 0xf0) === 0x40) rexW = (bytes[i++]! & 0x08) !== 0;
    if (i >= end) return undefined;
    const op = bytes[i]!;
    const full = rexW ? 8 : opsize ? 2 : 4;
    if (op === 0x0f) {
      const op2 = bytes[i + 1];
      if (op2 === undefined) return undefined;
      if (op2 >= 0x90 && op2 <= 0x9f) return 1;
      return [0xa3, 0xab, 0xb3, 0xbb, 0xba, 0xa4, 0xa5, 0xac, 0xad].includes(op2) ? full : undefined;
    }
    if (op < 0x40 && (op & 7) < 2) return op & 1 ? full : 1;
    if (op === 0x80 || op === 0x82 || op === 0xc0 || op === 0xd0 || op === 0xd2 || op === 0xf6 || op === 0xfe) return 1;
    if (op === 0x81 || op === 0x83 || op === 0xc1 || op === 0xd1 || op === 0xd3 || op === 0xf7 || op === 0xff) return full;
    return undefined;
  };

  /** What iced says the instruction writes, as clobbers (for everything not modelled). */
  const generic = (ins: IcedInstruction, effects: Effect[]): void => {
    factory ??= new iced.InstructionInfoFactory();
    const info = factory.info(ins);
    try {
      let mask = 0;
      for (const used of info.usedRegisters()) {
        if (WRITE_ACCESS.has(used.access)) {
          const g = gpr(used.register);
          if (g) {
            if (g.r === RSP) effects.push({ op: 'spunknown' });
            else mask |= bit(g.r);
          }
        }
        used.free();
      }
      if (mask) effects.push({ op: 'clobber', mask });
      for (const used of info.usedMemory()) {
        if (WRITE_ACCESS.has(used.access)) {
          const b = gpr(used.base);
          const indexed = used.index !== R.None;
          if (b && b.w === ptr) {
            const size = iced.MemorySizeExt.size(used.memorySize);
            effects.push({ op: 'memwrite', base: b.r, disp: Number(BigInt.asIntN(64, used.displacement)), indexed, ...(size > 0 ? { size } : {}) });
          } else if (used.base !== R.None || indexed) {
            effects.push({ op: 'memwrite', base: BASE_OTHER, disp: 0, indexed: true });
          }
        }
        used.free();
      }
    } finally {
      info.free();
    }
  };

  const clobberOp0 = (ins: IcedInstruction, effects: Effect[]): void => {
    const g = ins.op0Kind === K.Register ? gpr(ins.op0Register) : undefined;
    if (g) effects.push(g.r === RSP ? { op: 'spunknown' } : { op: 'clobber', mask: bit(g.r) });
    else generic(ins, effects);
  };

  // --- instruction effects: one small handler per instruction form --------------------------
  // Each gets the instruction, its destination register (operand 0) when it is one, and
  // the kinds of operands 0 and 1; instructions without a handler go through generic().
  type Dest = { r: number; w: number } | undefined;
  type Handler = (ins: IcedInstruction, d: Dest, k0: number, k1: number, effects: Effect[]) => void;

  /** A write of operand 0 in memory, of the operand's size when the encoding says it. */
  const memDestWrite = (ins: IcedInstruction, effects: Effect[]): void => {
    const m = mem(ins);
    const size = operandSize(ins);
    effects.push({ op: 'memwrite', base: m.base, disp: m.disp, indexed: m.indexed, ...(size !== undefined ? { size } : {}) });
  };

  const movToReg = (ins: IcedInstruction, d: NonNullable<Dest>, k1: number, effects: Effect[]): void => {
    if (d.w < 4) return clobberOp0(ins, effects);
    if (d.r === RSP) {
      effects.push({ op: 'spunknown' });
      return;
    }
    if (isImm(k1)) {
      const v = immOf(ins, 1);
      effects.push({ op: 'set', r: d.r, v: immVal(d.w === 4 ? v & 0xffffffffn : v) });
      return;
    }
    if (k1 === K.Register) {
      const s = gpr(ins.op1Register);
      if (s && s.w === d.w) effects.push({ op: 'copy', r: d.r, s: s.r, w32: w32For(d.w) });
      else clobberOp0(ins, effects);
      return;
    }
    if (k1 === K.Memory) {
      const m = mem(ins);
      if (m.indexed) effects.push({ op: 'set', r: d.r, v: FROM_MEMORY });
      else effects.push({ op: 'load', r: d.r, base: m.base, disp: m.disp, size: d.w, w32: w32For(d.w) });
      return;
    }
    clobberOp0(ins, effects);
  };

  const movToMemory = (ins: IcedInstruction, k1: number, effects: Effect[]): void => {
    const m = mem(ins);
    if (isImm(k1)) {
      effects.push({ op: 'store', base: m.base, disp: m.disp, size: immSize(k1), src: -1, v: constVal(immOf(ins, 1)), indexed: m.indexed });
      return;
    }
    const s = k1 === K.Register ? gpr(ins.op1Register) : undefined;
    if (s) effects.push({ op: 'store', base: m.base, disp: m.disp, size: s.w, src: s.w >= 4 ? s.r : -1, indexed: m.indexed });
    else effects.push({ op: 'memwrite', base: m.base, disp: m.disp, indexed: m.indexed });
  };

  const mov: Handler = (ins, d, k0, k1, effects) => {
    if (d) movToReg(ins, d, k1, effects);
    else if (k0 === K.Memory) movToMemory(ins, k1, effects);
    else generic(ins, effects);
  };

  const lea: Handler = (ins, d, _k0, _k1, effects) => {
    if (!d || d.w < 4) return clobberOp0(ins, effects);
    const m = mem(ins);
    if (m.base === BASE_ABS && d.w === ptr) effects.push({ op: 'set', r: d.r, v: addrVal(m.abs) });
    else if (m.base >= 0 && !m.indexed) effects.push({ op: 'alu', r: d.r, s: m.base, fn: 'add', imm: BigInt(m.disp) & MASK64, w32: w32For(d.w) });
    else if (m.base === RSP || m.base === RBP) effects.push({ op: 'set', r: d.r, v: STACK });
    else clobberOp0(ins, effects);
  };

  const push: Handler = (ins, d, k0, _k1, effects) => {
    if (ins.stackPointerIncrement !== -ptr) effects.push({ op: 'spunknown' });
    else if (d && d.w === ptr) effects.push({ op: 'push', src: d.r, size: ptr });
    else if (isImm(k0)) effects.push({ op: 'push', src: -1, v: immVal(immOf(ins, 0) & (ptr === 8 ? MASK64 : 0xffffffffn)), size: ptr });
    else effects.push({ op: 'push', src: -1, v: FROM_MEMORY, size: ptr });
  };

  const pop: Handler = (ins, d, k0, _k1, effects) => {
    if (ins.stackPointerIncrement !== ptr) {
      effects.push({ op: 'spunknown' });
      return;
    }
    if (d && d.w === ptr) {
      effects.push({ op: 'pop', r: d.r, size: ptr });
      return;
    }
    effects.push({ op: 'pop', r: -1, size: ptr });
    if (k0 === K.Memory) {
      const m = mem(ins);
      effects.push({ op: 'memwrite', base: m.base, disp: m.disp - ptr, indexed: true });
    }
  };

  const leave: Handler = (_ins, _d, _k0, _k1, effects) => {
    effects.push({ op: 'spunknown' }, { op: 'clobber', mask: bit(RBP) });
  };

  /** Instructions whose only write is operand 0 (a register, or memory of the operand's size). */
  const writesOp0: Handler = (ins, d, k0, _k1, effects) => {
    if (d) clobberOp0(ins, effects);
    else if (k0 === K.Memory) memDestWrite(ins, effects);
    else generic(ins, effects);
  };

  const alu =
    (fn: 'add' | 'sub' | 'or' | 'and' | 'xor'): Handler =>
    (ins, d, k0, k1, effects) => {
      if (k0 === K.Memory && isImm(k1)) {
        // MSVC stores a zero argument as `and dword ptr [rsp+20h], 0` and -1 as `or ..., -1`
        // (shorter than mov): a store of that constant. Any other value is a write of the operand's size.
        const size = operandSize(ins);
        const imm = immOf(ins, 1) & sizeMask(size);
        if (size !== undefined && ((fn === 'and' && imm === 0n) || (fn === 'or' && imm === sizeMask(size)))) {
          const m = mem(ins);
          effects.push({ op: 'store', base: m.base, disp: m.disp, size, src: -1, v: constVal(imm), indexed: m.indexed });
        } else memDestWrite(ins, effects);
        return;
      }
      if (d) {
        if (d.w < 4) clobberOp0(ins, effects);
        else if (fn === 'xor' && k1 === K.Register && ins.op1Register === ins.op0Register) effects.push({ op: 'set', r: d.r, v: constVal(0n) });
        else if (isImm(k1)) effects.push({ op: 'alu', r: d.r, s: d.r, fn, imm: immOf(ins, 1), w32: w32For(d.w) || bitness === 32 });
        else clobberOp0(ins, effects);
        return;
      }
      if (k0 === K.Memory) memDestWrite(ins, effects);
      else generic(ins, effects);
    };

  const HANDLERS = new Map<number, Handler>([
    [M.Mov, mov],
    [M.Lea, lea],
    [M.Push, push],
    [M.Pop, pop],
    [M.Leave, leave],
    [M.Add, alu('add')],
    [M.Sub, alu('sub')],
    [M.Or, alu('or')],
    [M.And, alu('and')],
    [M.Xor, alu('xor')],
    // imul with two or three operands writes only operand 0; the one-operand form writes rdx:rax.
    [M.Imul, (ins, d, k0, k1, effects) => (ins.opCount >= 2 ? writesOp0(ins, d, k0, k1, effects) : generic(ins, effects))],
    ...[...WRITES_OP0].map((mn): [number, Handler] => [mn, writesOp0]),
  ]);

  /** Effects of a non-branch instruction. */
  const effectsOf = (ins: IcedInstruction, mn: number, effects: Effect[]): void => {
    if (NO_EFFECT.has(mn)) return;
    const handler = HANDLERS.get(mn);
    if (!handler) return generic(ins, effects);
    const k0 = ins.op0Kind;
    handler(ins, k0 === K.Register ? gpr(ins.op0Register) : undefined, k0, ins.opCount > 1 ? ins.op1Kind : -1, effects);
  };

  /**
   * MSVC's multi-byte alignment fillers that are not `nop`: `lea ecx, [ecx+0]`,
   * `lea esp, [esp+0]` (8D 49 00, 8D A4 24 00000000) between a jump and a loop head. Taken
   * as padding, so that code nothing reaches does not mix its unknown values into the loop.
   */
  const isFiller = (ins: IcedInstruction, mn: number): boolean => {
    if (mn !== M.Lea || ins.op0Kind !== K.Register || ins.memoryIndex !== R.None || ins.memoryDisplacement !== 0n) return false;
    const d = gpr(ins.op0Register);
    const b = gpr(ins.memoryBase);
    return d !== undefined && b !== undefined && d.r === b.r && d.w === ptr && b.w === ptr;
  };

  const branchVia = (ins: IcedInstruction, insn: Insn): void => {
    const k0 = ins.op0Kind;
    if (k0 === K.Register) {
      const g = gpr(ins.op0Register);
      if (g && g.w === ptr) insn.viaReg = g.r;
    } else if (k0 === K.Memory) {
      const m = mem(ins);
      if (m.base === BASE_ABS) insn.viaSlot = m.abs;
    }
  };

  const NO_FALL_THROUGH = new Set<number>([F.UnconditionalBranch, F.IndirectBranch, F.Return, F.Interrupt, F.Exception]);

  // One decoder per section, over all its bytes: made once (each costs a copy into wasm
  // memory and tens of microseconds), moved to each region.
  const decoders = new Map<Uint8Array, IcedDecoder>();
  const decoderAt = (code: CodeBytes, from: number): IcedDecoder => {
    let decoder = decoders.get(code.bytes);
    if (!decoder) {
      decoder = new iced.Decoder(bitness, code.bytes, iced.DecoderOptions.None);
      decoders.set(code.bytes, decoder);
    }
    decoder.position = from - code.start;
    decoder.ip = BigInt(from);
    return decoder;
  };
  let ins: IcedInstruction | undefined;

  // Retpoline thunks by RVA (register, or -1 for other code), per section.
  const retpolines = new Map<Uint8Array, Map<number, number>>();
  /** A direct call or jump to a retpoline thunk is an indirect one through the thunk's register. */
  const throughRetpoline = (code: CodeBytes, insn: Insn, flow: number): void => {
    let known = retpolines.get(code.bytes);
    if (!known) retpolines.set(code.bytes, (known = new Map()));
    let reg = known.get(insn.target);
    if (reg === undefined) {
      reg = retpolineRegister(code.bytes, insn.target - code.start, bitness);
      known.set(insn.target, reg);
    }
    if (reg < 0) return;
    insn.flow = flow;
    insn.target = -1;
    insn.viaReg = reg;
  };

  return {
    refAt(code, rva) {
      const decoder = decoderAt(code, rva);
      const x = (ins ??= new iced.Instruction());
      decoder.decodeOut(x);
      if (x.mnemonic === M.INVALID) return { len: x.length, ref: -1 };
      if (x.isIpRelMemoryOperand) return { len: x.length, ref: Number(x.ipRelMemoryAddress & 0xffffffffn) };
      for (let op = 0; op < Math.min(x.opCount, 2); op++) {
        const kind = op === 0 ? x.op0Kind : x.op1Kind;
        if (kind === K.Memory && x.memoryBase === R.None && x.memoryIndex === R.None) {
          return { len: x.length, ref: vaToRva(BigInt.asUintN(bitness, x.memoryDisplacement)) };
        }
        if (bitness === 32 && kind === K.Immediate32) return { len: x.length, ref: vaToRva(BigInt.asUintN(32, x.immediate(op))) };
      }
      return { len: x.length, ref: -1 };
    },
    dispose() {
      factory?.free();
      factory = undefined;
      for (const d of decoders.values()) d.free();
      decoders.clear();
      ins?.free();
      ins = undefined;
    },
    starts(code, from, to, budget) {
      const out = [from];
      const decoder = decoderAt(code, from);
      const x = (ins ??= new iced.Instruction());
      let rva = from;
      let stopped = true; // the last instruction that was not padding does not fall through
      let gap = false; // inside padding between functions
      // Ends where the bytes do, as decoder.canDecode would, without a call into wasm per
      // instruction (every instruction, even an invalid one, has a length).
      const end = Math.min(to, code.start + code.bytes.length);
      while (rva < end) {
        if (budget.left-- <= 0) break;
        decoder.decodeOut(x);
        const mn = x.mnemonic;
        if (mn === M.Int3 || mn === M.Nop) {
          if (stopped || mn === M.Int3) gap = true;
        } else {
          if (gap) out.push(rva);
          gap = false;
          stopped = mn === M.INVALID || NO_FALL_THROUGH.has(x.flowControl);
        }
        rva += x.length;
      }
      return out;
    },
    decode(code, from, to, budget) {
      const out: Insn[] = [];
      const decoder = decoderAt(code, from);
      const x = (ins ??= new iced.Instruction());
      let rva = from;
      const end = Math.min(to, code.start + code.bytes.length);
      while (rva < end) {
        if (budget.left-- <= 0) break;
        decoder.decodeOut(x);
        curBytes = code.bytes;
        curAt = rva - code.start;
        const len = x.length;
        const mn = x.mnemonic;
        const insn: Insn = { rva, len, flow: FLOW_NEXT, target: -1, viaSlot: -1, viaReg: -1, effects: NO_EFFECTS, padding: false };
        rva += len;
        out.push(insn);
        if (mn === M.INVALID) {
          insn.flow = FLOW_STOP;
          continue;
        }
        switch (x.flowControl) {
          case F.Next:
            if (mn === M.Nop || isFiller(x, mn)) insn.padding = true;
            else {
              const effects: Effect[] = [];
              effectsOf(x, mn, effects);
              if (effects.length > 0) insn.effects = effects;
            }
            break;
          case F.UnconditionalBranch:
            if (x.op0Kind === K.NearBranch64 || x.op0Kind === K.NearBranch32) {
              insn.flow = FLOW_JUMP;
              insn.target = Number(x.nearBranchTarget & 0xffffffffn);
              throughRetpoline(code, insn, FLOW_INDIRECT_JUMP);
            } else insn.flow = FLOW_STOP;
            break;
          case F.IndirectBranch:
            insn.flow = FLOW_INDIRECT_JUMP;
            branchVia(x, insn);
            break;
          case F.ConditionalBranch:
            insn.flow = FLOW_COND_JUMP;
            insn.target = Number(x.nearBranchTarget & 0xffffffffn);
            if (mn === M.Loop || mn === M.Loope || mn === M.Loopne) insn.effects = [{ op: 'clobber', mask: bit(1) }];
            break;
          case F.Return:
            insn.flow = FLOW_RETURN;
            break;
          case F.Call:
            insn.flow = FLOW_CALL;
            insn.target = Number(x.nearBranchTarget & 0xffffffffn);
            throughRetpoline(code, insn, FLOW_INDIRECT_CALL);
            break;
          case F.IndirectCall:
            insn.flow = FLOW_INDIRECT_CALL;
            branchVia(x, insn);
            break;
          case F.Interrupt:
          case F.Exception:
            insn.flow = FLOW_STOP;
            insn.padding = mn === M.Int3;
            break;
          default: {
            const effects: Effect[] = [];
            generic(x, effects);
            if (effects.length > 0) insn.effects = effects;
          }
        }
      }
      return out;
    },
  };
}
