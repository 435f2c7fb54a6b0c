/**
 * The abstract interpreter: what one instruction (its ./ir.ts effects and, for calls, the
 * calling convention) does to a State. Shared by the fixpoint (./fixpoint.ts) and the pass
 * that recognises calls (./calls.ts), so both see the same values.
 */
import {
  AFTER_CALL,
  BASE_ABS,
  BASE_OTHER,
  FLOW_CALL,
  FLOW_INDIRECT_CALL,
  FLOW_INDIRECT_JUMP,
  FLOW_JUMP,
  FROM_MEMORY,
  MASK32,
  MASK64,
  NOT_FOLLOWED,
  STACK,
  V_ADDR,
  V_CONST,
  V_SLOT,
  V_STACK,
  V_UNKNOWN,
  addrVal,
  bit,
  constVal,
  type Effect,
  type Insn,
  type Machine,
  type Val,
} from './ir.js';
import { MAX_ENTRY_SIZE, invalidate, record, type State } from './state.js';
import type { SlotInfo } from './types.js';

/** What a pointer-sized value read from these RVAs is: an import, or a CFG guard function pointer. */
export type SpecialSlot = 'check' | 'dispatch' | 'noreturn';

export interface ImageFacts {
  machine: Machine;
  /** IAT slot RVA -> import, for the DDIs the rules check. */
  slots: ReadonlyMap<number, SlotInfo>;
  /** Other slots whose value matters: CFG guard pointers (load config) and imports that never return. */
  special: ReadonlyMap<number, SpecialSlot>;
  /** Import thunk RVA -> IAT slot RVA, for the DDIs the rules check. */
  thunks: ReadonlyMap<number, number>;
  /** Import thunks of functions that never return. */
  noreturnThunks: ReadonlySet<number>;
}

/** Where a call or jump goes, as far as the analysis can tell. */
export type Callee =
  | { kind: 'import'; slot: number; via: 'slot' | 'register' | 'thunk'; src: number }
  | { kind: 'check' }
  | { kind: 'noreturn' }
  | { kind: 'other' };

const OTHER: Callee = { kind: 'other' };

/** The register a CFG dispatch call takes its target in (rax, eax; x15 is not used by native ARM64). */
const DISPATCH_TARGET = 0;

export function calleeOf(insn: Insn, state: State, f: ImageFacts): Callee {
  switch (insn.flow) {
    case FLOW_CALL:
    case FLOW_JUMP: {
      const slot = f.thunks.get(insn.target);
      if (slot !== undefined) return { kind: 'import', slot, via: 'thunk', src: insn.rva };
      return f.noreturnThunks.has(insn.target) ? { kind: 'noreturn' } : OTHER;
    }
    case FLOW_INDIRECT_CALL:
    case FLOW_INDIRECT_JUMP: {
      if (insn.viaSlot >= 0) {
        if (f.slots.has(insn.viaSlot)) return { kind: 'import', slot: insn.viaSlot, via: 'slot', src: insn.rva };
        const special = f.special.get(insn.viaSlot);
        if (special === 'dispatch') return throughValue(state.regs[DISPATCH_TARGET]!, f, state, false);
        if (special === 'check') return { kind: 'check' };
        if (special === 'noreturn') return { kind: 'noreturn' };
        return OTHER;
      }
      if (insn.viaReg >= 0) return throughValue(state.regs[insn.viaReg]!, f, state, true);
      return OTHER;
    }
    default:
      return OTHER;
  }
}

/**
 * A call through a register holding `v`. The dispatch function's pointer may itself be
 * loaded into a register first (`mov r9, [__guard_dispatch_icall_fptr]; jmp r9`): the
 * target is then in rax (looked at once, `follow`).
 */
function throughValue(v: Val, f: ImageFacts, state: State, follow: boolean): Callee {
  if (v.k === V_SLOT) {
    if (f.slots.has(v.a!)) return { kind: 'import', slot: v.a!, via: 'register', src: v.src ?? -1 };
    const special = f.special.get(v.a!);
    if (special === 'check') return { kind: 'check' };
    if (special === 'noreturn') return { kind: 'noreturn' };
    if (special === 'dispatch') return follow ? throughValue(state.regs[DISPATCH_TARGET]!, f, state, false) : OTHER;
  }
  if (v.k === V_ADDR) {
    // The address of an import thunk, taken and called through a register.
    const slot = f.thunks.get(v.a!);
    if (slot !== undefined) return { kind: 'import', slot, via: 'thunk', src: v.src ?? -1 };
    if (f.noreturnThunks.has(v.a!)) return { kind: 'noreturn' };
  }
  return OTHER;
}

/** Applies one instruction; `callee` is what calleeOf said, for calls. */
export function apply(state: State, insn: Insn, f: ImageFacts, callee: Callee | undefined): void {
  const m = f.machine;
  for (const e of insn.effects) applyEffect(state, e, insn.rva, f);
  if (insn.flow !== FLOW_CALL && insn.flow !== FLOW_INDIRECT_CALL) return;
  // The CFG check function preserves every register the call through it uses, and takes no
  // stack arguments (ecx holds the target on x86).
  if (callee?.kind === 'check') return;
  // A callee given a pointer into the frame (in a register or stack argument) may write
  // anywhere in it; callee-saved registers holding frame pointers are not given to it.
  let frameShared = state.escaped;
  const n = state.regs.length;
  for (let r = 0; r < n && !frameShared; r++) frameShared = state.regs[r]!.k === V_STACK && (m.volatile & bit(r)) !== 0;
  if (!frameShared) for (const e of state.stack.values()) if (e.v.k === V_STACK) frameShared = true;
  for (let r = 0; r < n; r++) if (m.volatile & bit(r)) state.regs[r] = AFTER_CALL;
  if (frameShared) state.fpStack.clear();
  if (m.calleeArea === undefined || frameShared) {
    // x86: a stdcall callee pops its arguments, by an amount not known here.
    rebase(state, insn.rva);
  } else {
    // x64 and ARM64 calls keep sp, so values spilled to the frame (at /Od, even the slot
    // pointer) survive the call; only the callee's home area is its own.
    invalidate(state.stack, state.sp, m.calleeArea);
  }
}

/** sp is lost: a new frame base, named by the instruction that lost it. */
function rebase(state: State, at: number): void {
  state.stack.clear();
  state.sp = 0;
  state.frame = at;
  state.escaped = false;
  for (let r = 0; r < state.regs.length; r++) if (state.regs[r]!.k === V_STACK && state.regs[r]!.a !== undefined) state.regs[r] = STACK;
}

/** A register's value; sp is a frame pointer at the current offset. */
export function regVal(state: State, m: Machine, r: number): Val {
  return r === m.sp ? { k: V_STACK, a: state.sp } : state.regs[r]!;
}

/** The frame offset [base + disp] refers to, when base points into the frame at a known offset. */
function frameOffset(state: State, m: Machine, base: number, disp: number, indexed: boolean): number | undefined {
  if (indexed || base < 0) return undefined;
  const b = regVal(state, m, base);
  return b.k === V_STACK && b.a !== undefined ? b.a + disp : undefined;
}

function setReg(state: State, m: Machine, r: number, v: Val, at: number): void {
  if (r < 0 || r >= state.regs.length) return;
  if (r === m.sp) {
    rebase(state, at);
    return;
  }
  if (r === m.fp) state.fpStack.clear();
  state.regs[r] = v;
}

/** Whether [fp + disp] is a slot of the fp-relative map: fp is the frame pointer at an unknown offset. */
function viaFramePointer(state: State, m: Machine, base: number, indexed: boolean): boolean {
  if (base !== m.fp || indexed) return false;
  const v = state.regs[base]!;
  return v.k === V_UNKNOWN || (v.k === V_STACK && v.a === undefined);
}

function truncate(v: Val, w32: boolean): Val {
  if (!w32) return v;
  if (v.k === V_CONST) return constVal(v.c! & MASK32);
  if (v.k === V_UNKNOWN) return v;
  // A pointer cut to 32 bits on a 64-bit machine is no longer the pointer.
  return NOT_FOLLOWED;
}

/** An address or import value gets the instruction that made it as its source. */
function stamped(v: Val, at: number): Val {
  return (v.k === V_ADDR || v.k === V_SLOT) && v.src === undefined ? { k: v.k, a: v.a, src: at } : v;
}

function applyEffect(state: State, e: Effect, at: number, f: ImageFacts): void {
  const m = f.machine;
  switch (e.op) {
    case 'set':
      setReg(state, m, e.r, stamped(e.v, at), at);
      return;
    case 'copy':
      setReg(state, m, e.r, truncate(regVal(state, m, e.s), e.w32), at);
      return;
    case 'alu': {
      if (e.r === m.sp && e.s === m.sp && (e.fn === 'add' || e.fn === 'sub')) {
        state.sp += Number(BigInt.asIntN(64, e.fn === 'add' ? e.imm : -e.imm));
        return;
      }
      let s = regVal(state, m, e.s);
      // An address computed from the frame pointer is taken to point into the frame, unless
      // the register holds a known constant (MSVC keeps constants in rbp when it has no frame).
      if (e.s === m.fp && s.k === V_UNKNOWN && (e.fn === 'add' || e.fn === 'sub')) s = STACK;
      setReg(state, m, e.r, aluVal(s, e.fn, e.imm, e.w32, at), at);
      return;
    }
    case 'insert16': {
      const s = state.regs[e.r]!;
      if (s.k !== V_CONST) {
        setReg(state, m, e.r, NOT_FOLLOWED, at);
        return;
      }
      const mask = 0xffffn << BigInt(e.shift);
      setReg(state, m, e.r, truncate(constVal((s.c! & ~mask & MASK64) | (e.imm << BigInt(e.shift))), e.w32), at);
      return;
    }
    case 'load':
      setReg(state, m, e.r, truncate(loadVal(state, e.base, e.disp, e.size, f, at), e.w32 === true), at);
      return;
    case 'store': {
      const v = e.src >= 0 ? regVal(state, m, e.src) : (e.v ?? NOT_FOLLOWED);
      // A pointer stored in fewer bytes than a pointer is not that pointer any more.
      const narrowed = e.size < m.ptrSize && v.k !== V_CONST && v.k !== V_UNKNOWN ? NOT_FOLLOWED : sized(v, e.size);
      storeTo(state, m, e.base, e.disp, e.size, narrowed, e.indexed === true);
      return;
    }
    case 'memwrite': {
      // Without a size (an instruction not sized), assume the widest vector store.
      const size = e.size ?? 64;
      const where = frameOffset(state, m, e.base, e.disp, e.indexed === true);
      if (where !== undefined) invalidate(state.stack, where, size);
      else if (viaFramePointer(state, m, e.base, e.indexed === true)) invalidate(state.fpStack, e.disp, size);
      else if (pointsToStack(state, m, e.base)) clearFrame(state);
      return;
    }
    case 'push': {
      const v = e.src >= 0 ? regVal(state, m, e.src) : (e.v ?? NOT_FOLLOWED);
      state.sp -= e.size;
      invalidate(state.stack, state.sp, e.size);
      record(state.stack, state.sp, { v: sized(stamped(v, at), e.size), size: e.size });
      return;
    }
    case 'pop': {
      const entry = state.stack.get(state.sp);
      const v = entry && entry.size === e.size ? entry.v : FROM_MEMORY;
      state.sp += e.size;
      if (e.r >= 0) setReg(state, m, e.r, v, at);
      return;
    }
    case 'sp':
      state.sp += e.delta;
      return;
    case 'spunknown':
      rebase(state, at);
      return;
    case 'clobber':
      for (let r = 0; r < state.regs.length; r++) if (e.mask & bit(r)) setReg(state, m, r, NOT_FOLLOWED, at);
      return;
  }
}

function sized(v: Val, size: number): Val {
  if (v.k !== V_CONST) return v;
  return size >= 8 ? v : constVal(v.c! & ((1n << BigInt(size * 8)) - 1n));
}

function aluVal(s: Val, fn: 'add' | 'sub' | 'or' | 'and' | 'xor', imm: bigint, w32: boolean, at: number): Val {
  if (s.k === V_CONST) {
    const a = s.c!;
    let r: bigint;
    switch (fn) {
      case 'add':
        r = a + imm;
        break;
      case 'sub':
        r = a - imm;
        break;
      case 'or':
        r = a | imm;
        break;
      case 'and':
        r = a & imm;
        break;
      case 'xor':
        r = a ^ imm;
        break;
    }
    return constVal(r & (w32 ? MASK32 : MASK64));
  }
  // `or reg, -1` and `and reg, 0` give a constant whatever the register held
  // (MSVC: `or r15, -1` is NtCurrentProcess()).
  const width = w32 ? MASK32 : MASK64;
  if (fn === 'or' && (imm & width) === width) return constVal(width);
  if (fn === 'and' && (imm & width) === 0n) return constVal(0n);
  if (s.k === V_ADDR && !w32 && (fn === 'add' || fn === 'sub')) {
    const d = Number(BigInt.asIntN(64, imm));
    // adrp + add: the full address is made here, so this instruction is its source.
    return addrVal(fn === 'add' ? s.a! + d : s.a! - d, d === 0 ? s.src : at);
  }
  if (s.k === V_STACK && (fn === 'add' || fn === 'sub')) {
    if (s.a === undefined || w32) return STACK;
    const d = Number(BigInt.asIntN(64, imm));
    return { k: V_STACK, a: fn === 'add' ? s.a + d : s.a - d };
  }
  if (s.k === V_UNKNOWN) return s;
  return NOT_FOLLOWED;
}

/** Whether a write through `base` may hit the frame (when its offset is not known). */
function pointsToStack(state: State, m: Machine, base: number): boolean {
  if (base === BASE_OTHER || base === m.sp || base === m.fp) return true;
  if (base < 0) return false;
  return state.regs[base]!.k === V_STACK;
}

/** The image address a memory operand names, when it is known. */
export function addressOf(state: State, m: Machine, base: number, disp: number): number | undefined {
  if (base === BASE_ABS) return disp;
  if (base >= 0) {
    const b = regVal(state, m, base);
    if (b.k === V_ADDR) return b.a! + disp;
  }
  return undefined;
}

function loadVal(state: State, base: number, disp: number, size: number, f: ImageFacts, at: number): Val {
  const m = f.machine;
  const addr = addressOf(state, m, base, disp);
  if (addr !== undefined) {
    if (size === m.ptrSize && (f.slots.has(addr) || f.special.has(addr))) return { k: V_SLOT, a: addr, src: at };
    return FROM_MEMORY;
  }
  if (base === BASE_OTHER) return FROM_MEMORY;
  const where = frameOffset(state, m, base, disp, false);
  const e = where !== undefined ? state.stack.get(where) : viaFramePointer(state, m, base, false) ? state.fpStack.get(disp) : undefined;
  return e && e.size === size ? e.v : FROM_MEMORY;
}

function storeTo(state: State, m: Machine, base: number, disp: number, size: number, v: Val, indexed: boolean): void {
  const where = frameOffset(state, m, base, disp, indexed);
  if (where !== undefined) {
    invalidate(state.stack, where, size);
    if (size <= MAX_ENTRY_SIZE) record(state.stack, where, { v, size });
  } else if (viaFramePointer(state, m, base, indexed)) {
    invalidate(state.fpStack, disp, size);
    if (size <= MAX_ENTRY_SIZE) record(state.fpStack, disp, { v, size });
  } else if (pointsToStack(state, m, base)) {
    // A store through a pointer into the frame at an unknown offset may hit any slot.
    clearFrame(state);
  } else if (v.k === V_STACK) {
    state.escaped = true;
  }
}

/** Whether a store of `e` leaves the frame (a global, or memory the analysis cannot place). */
export function storesOutsideFrame(state: State, m: Machine, e: Effect & { op: 'store' }): boolean {
  if (frameOffset(state, m, e.base, e.disp, e.indexed === true) !== undefined) return false;
  if (viaFramePointer(state, m, e.base, e.indexed === true)) return false;
  return !pointsToStack(state, m, e.base) || e.base === BASE_OTHER;
}

function clearFrame(state: State): void {
  state.stack.clear();
  state.fpStack.clear();
}
