/**
 * Finds the calls to imported DDIs in one decoded region of code (a function from .pdata,
 * or a sweep of code without .pdata) and recovers the argument that decides executability.
 *
 * Two passes over the basic blocks:
 * 1. A forward dataflow over the CFG that follows only where IAT slot values and image
 *    addresses are held (so `mov rdi, [rip+slot]` in the prologue still names the import
 *    at `call rdi` in a loop). Values join to "unknown" where paths disagree.
 * 2. Within each block, constants as well: argument values are recovered only from the
 *    basic block that makes the call, as the issue asks; a value set in another block is
 *    "not a constant", never a guess.
 */
import {
  BASE_ABS,
  BASE_OTHER,
  FROM_MEMORY,
  NOT_FOLLOWED,
  NOT_IN_BLOCK,
  FLOW_CALL,
  FLOW_COND_JUMP,
  FLOW_INDIRECT_CALL,
  FLOW_INDIRECT_JUMP,
  FLOW_JUMP,
  FLOW_NEXT,
  MASK32,
  MASK64,
  STACK,
  V_ADDR,
  V_CONST,
  V_SLOT,
  V_STACK,
  V_UNKNOWN,
  addrVal,
  bit,
  constVal,
  unknownVal,
  type Effect,
  type Insn,
  type Machine,
  type Val,
} from './ir.js';
import type { RecoveredArg, CallKind, CallTarget } from './types.js';

const AFTER_CALL = unknownVal('changed by an earlier call');
const NO_STACK_STORE = unknownVal('not stored to the stack in the basic block that makes the call');

/** The import reached through an IAT slot. */
export interface SlotInfo {
  ddi: string;
  dll: string;
}

export interface RegionInput {
  insns: Insn[];
  machine: Machine;
  /** IAT slot RVA -> the import (only the DDIs of interest). */
  slots: ReadonlyMap<number, SlotInfo>;
  /** Import thunk RVA -> IAT slot RVA, found so far. */
  thunks: ReadonlyMap<number, number>;
  targets: ReadonlyMap<string, CallTarget>;
  /** Addresses known to start functions (from .pdata). */
  entries: ReadonlySet<number>;
}

export interface FoundCall {
  rva: number;
  len: number;
  slot: number;
  kind: CallKind;
  via: 'slot' | 'register' | 'thunk';
  arg: RecoveredArg | undefined;
}

export interface RegionResult {
  calls: FoundCall[];
  /** Thunks found in this region: thunk RVA -> slot RVA. */
  thunks: Map<number, number>;
}

interface Block {
  start: number;
  end: number;
  succ: number[];
  pred: number[];
  /** Forced to an all-unknown entry state (region start, call targets, .pdata starts). */
  entry: boolean;
  padding: boolean;
}

interface StackEntry {
  v: Val;
  size: number;
}

class State {
  regs: Val[];
  stack = new Map<number, StackEntry>();
  sp = 0;
  /**
   * Slots addressed through the frame pointer (x86 /Od spills: [ebp-8]) when its offset from
   * sp is not known, keyed by displacement. They survive calls, as ebp does.
   */
  fpStack = new Map<number, StackEntry>();
  /** A pointer into the frame was stored outside it: a callee may write anywhere in the frame. */
  escaped = false;
  constructor(regs: Val[]) {
    this.regs = regs;
  }
}

const MAX_FIXPOINT_ROUNDS = 64;

export function analyseRegion(input: RegionInput): RegionResult {
  const { insns, machine } = input;
  const result: RegionResult = { calls: [], thunks: new Map() };
  if (insns.length === 0) return result;
  const blocks = buildBlocks(input);
  // Cross-block facts only matter for calls through a register; most code has none.
  const throughRegister = insns.some((x) => x.viaReg >= 0);
  const inStates = throughRegister ? solve(blocks, input) : [];

  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b]!;
    if (!mayCallImport(insns, block, input)) continue;
    const state = new State(entryRegs(inStates[b]));
    for (let i = block.start; i < block.end; i++) {
      const insn = insns[i]!;
      if (insn.flow !== FLOW_NEXT) {
        const found = resolveTarget(insn, state, input);
        if (found) {
          const tail = insn.flow === FLOW_JUMP || insn.flow === FLOW_INDIRECT_JUMP;
          // A jump through the slot that starts code nothing in the region reaches, with
          // nothing before it but the load of the jump register, is an import thunk (or a
          // wrapper that passes its arguments through): its callers are the call sites.
          const isThunk =
            tail &&
            found.via !== 'thunk' &&
            effectivePreds(blocks, b).length === 0 &&
            writesOnly(insns, block.start, i, insn.viaReg);
          if (isThunk) {
            result.thunks.set(insns[block.start]!.rva, found.slot);
          } else {
            const info = input.slots.get(found.slot)!;
            const param = input.targets.get(info.ddi)?.param;
            const kind: CallKind =
              found.via === 'thunk' ? (tail ? 'tail call via thunk' : 'call via thunk') : tail ? 'tail call' : 'call';
            result.calls.push({
              rva: insn.rva,
              len: insn.len,
              slot: found.slot,
              kind,
              via: found.via,
              arg: param ? readArg(state, machine, param.index, param.x86Slot, tail, param.wide) : undefined,
            });
          }
        }
      }
      apply(state, insn, machine, input);
    }
  }
  return result;
}

/** Whether a block holds a branch that can reach an import: through a slot, a register or a known thunk. */
function mayCallImport(insns: Insn[], block: Block, input: RegionInput): boolean {
  for (let i = block.start; i < block.end; i++) {
    const x = insns[i]!;
    if (x.viaReg >= 0 || (x.viaSlot >= 0 && input.slots.has(x.viaSlot)) || (x.target >= 0 && input.thunks.has(x.target))) return true;
  }
  return false;
}

/** True when instructions [from, to) write no register other than `r` (none when r < 0) and store nothing. */
function writesOnly(insns: Insn[], from: number, to: number, r: number): boolean {
  for (let i = from; i < to; i++) {
    for (const e of insns[i]!.effects) {
      switch (e.op) {
        case 'set':
        case 'copy':
        case 'alu':
        case 'insert16':
        case 'load':
          if (e.r !== r) return false;
          break;
        default:
          return false;
      }
    }
    if (insns[i]!.flow !== FLOW_NEXT) return false;
  }
  return true;
}

function buildBlocks(input: RegionInput): Block[] {
  const { insns } = input;
  // Instruction index by offset from the region start (-1 inside an instruction): a
  // typed array, not a Map, for regions of hundreds of thousands of instructions.
  const base = insns[0]!.rva;
  const last = insns[insns.length - 1]!;
  const byOffset = new Int32Array(last.rva + last.len - base).fill(-1);
  for (let i = 0; i < insns.length; i++) byOffset[insns[i]!.rva - base] = i;
  const index = {
    get(rva: number): number | undefined {
      const k = rva - base;
      const i = k >= 0 && k < byOffset.length ? byOffset[k]! : -1;
      return i >= 0 ? i : undefined;
    },
  };
  const leader = new Uint8Array(insns.length + 1);
  const entry = new Uint8Array(insns.length);
  leader[0] = 1;
  entry[0] = 1;
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    if (input.entries.has(x.rva)) {
      leader[i] = 1;
      entry[i] = 1;
    }
    if (x.flow === FLOW_NEXT || x.flow === FLOW_CALL || x.flow === FLOW_INDIRECT_CALL) {
      // A direct call target inside the region starts a function.
      if (x.flow === FLOW_CALL) {
        const t = index.get(x.target);
        if (t !== undefined) {
          leader[t] = 1;
          entry[t] = 1;
        }
      }
      continue;
    }
    leader[i + 1] = 1;
    if (x.flow === FLOW_JUMP || x.flow === FLOW_COND_JUMP) {
      const t = index.get(x.target);
      if (t !== undefined) leader[t] = 1;
    }
  }
  const blocks: Block[] = [];
  const blockOf = new Int32Array(insns.length);
  for (let i = 0; i < insns.length; ) {
    let j = i + 1;
    while (j < insns.length && !leader[j]) j++;
    let padding = true;
    for (let k = i; k < j; k++) padding &&= insns[k]!.padding;
    blocks.push({ start: i, end: j, succ: [], pred: [], entry: entry[i] === 1, padding });
    for (let k = i; k < j; k++) blockOf[k] = blocks.length - 1;
    i = j;
  }
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b]!;
    const last = insns[block.end - 1]!;
    const add = (to: number): void => {
      if (!block.succ.includes(to)) block.succ.push(to);
      blocks[to]!.pred.push(b);
    };
    if ((last.flow === FLOW_NEXT || last.flow === FLOW_CALL || last.flow === FLOW_INDIRECT_CALL || last.flow === FLOW_COND_JUMP) && b + 1 < blocks.length) {
      add(b + 1);
    }
    if (last.flow === FLOW_JUMP || last.flow === FLOW_COND_JUMP) {
      const t = index.get(last.target);
      if (t !== undefined) add(blockOf[t]!);
    }
  }
  return blocks;
}

/** Predecessors, not counting padding (nop/int3 runs) that nothing reaches. */
function effectivePreds(blocks: Block[], b: number): number[] {
  return blocks[b]!.pred.filter((p) => !(blocks[p]!.padding && blocks[p]!.pred.length === 0));
}

/**
 * Entry register states per block, from the fixpoint over slot/address facts. A block that
 * nothing reaches inside the region (a switch case reached through a jump table) may be
 * entered from any indirect jump of the region, so it gets their join.
 */
function solve(blocks: Block[], input: RegionInput): (Val[] | undefined)[] {
  const n = blocks.length;
  const preds: number[][] = blocks.map((_, b) => effectivePreds(blocks, b));
  const indirect = blocks
    .map((blk, b) => (input.insns[blk.end - 1]!.flow === FLOW_INDIRECT_JUMP ? b : -1))
    .filter((b) => b >= 0);
  for (let b = 0; b < n; b++) {
    if (!blocks[b]!.entry && preds[b]!.length === 0) preds[b] = indirect.filter((p) => p !== b);
  }
  const succs: number[][] = blocks.map(() => []);
  preds.forEach((ps, b) => ps.forEach((p) => succs[p]!.push(b)));

  const outs: (Val[] | undefined)[] = new Array(n);
  const ins: (Val[] | undefined)[] = new Array(n);
  const work: number[] = [];
  const queued = new Uint8Array(n);
  for (let b = 0; b < n; b++) {
    if (blocks[b]!.entry || preds[b]!.length === 0) {
      work.push(b);
      queued[b] = 1;
    }
  }
  let steps = 0;
  const limit = n * MAX_FIXPOINT_ROUNDS + 100;
  while (work.length > 0) {
    if (++steps > limit) {
      // Not converged within the limit (hostile code): keep no cross-block facts at all.
      return new Array(n).fill(undefined);
    }
    const b = work.pop()!;
    queued[b] = 0;
    const block = blocks[b]!;
    let inRegs: Val[] | undefined;
    if (block.entry || preds[b]!.length === 0) {
      inRegs = undefined;
    } else {
      inRegs = join(preds[b]!.map((p) => outs[p]).filter((x): x is Val[] => x !== undefined));
    }
    ins[b] = inRegs;
    const state = new State(entryRegs(inRegs));
    for (let i = block.start; i < block.end; i++) apply(state, input.insns[i]!, input.machine, input);
    const out = state.regs.map((v) => (v.k === V_SLOT || v.k === V_ADDR ? v : NOT_IN_BLOCK));
    if (!outs[b] || !sameRegs(outs[b]!, out)) {
      outs[b] = out;
      for (const s of succs[b]!) {
        if (!queued[s]) {
          queued[s] = 1;
          work.push(s);
        }
      }
    }
  }
  return ins;
}

function join(states: Val[][]): Val[] | undefined {
  if (states.length === 0) return undefined;
  const first = states[0]!;
  return first.map((v, r) => (states.every((s) => sameVal(s[r]!, v)) ? v : NOT_IN_BLOCK));
}

function sameVal(a: Val, b: Val): boolean {
  if (a.k !== b.k) return false;
  if (a.k === V_SLOT || a.k === V_ADDR) return a.a === b.a;
  return a.k === V_UNKNOWN || a.k === V_STACK;
}

function sameRegs(a: Val[], b: Val[]): boolean {
  for (let r = 0; r < a.length; r++) if (!sameVal(a[r]!, b[r]!)) return false;
  return true;
}

/** A block starts knowing only where slot values and addresses are; constants are not carried in. */
function entryRegs(inRegs: Val[] | undefined): Val[] {
  const regs = new Array<Val>(32);
  for (let r = 0; r < 32; r++) {
    const v = inRegs?.[r];
    regs[r] = v && (v.k === V_SLOT || v.k === V_ADDR) ? v : NOT_IN_BLOCK;
  }
  return regs;
}

function resolveTarget(
  insn: Insn,
  state: State,
  input: RegionInput,
): { slot: number; via: 'slot' | 'register' | 'thunk' } | undefined {
  switch (insn.flow) {
    case FLOW_CALL:
    case FLOW_JUMP: {
      const slot = input.thunks.get(insn.target);
      return slot !== undefined ? { slot, via: 'thunk' } : undefined;
    }
    case FLOW_INDIRECT_CALL:
    case FLOW_INDIRECT_JUMP: {
      if (insn.viaSlot >= 0) return input.slots.has(insn.viaSlot) ? { slot: insn.viaSlot, via: 'slot' } : undefined;
      if (insn.viaReg >= 0) {
        const v = state.regs[insn.viaReg]!;
        if (v.k === V_SLOT && input.slots.has(v.a!)) return { slot: v.a!, via: 'register' };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function readArg(state: State, m: Machine, index: number, x86Slot: number | undefined, tail: boolean, wide?: boolean): RecoveredArg {
  let v: Val;
  if (index < m.argRegs.length) {
    v = state.regs[m.argRegs[index]!]!;
  } else {
    const slot = m.argRegs.length === 0 ? (x86Slot ?? index) : index;
    const at = state.sp + m.stackArg(slot, tail);
    const e = state.stack.get(at);
    if (!e) v = NO_STACK_STORE;
    else if (e.size < 4) v = NOT_FOLLOWED;
    else v = e.v;
  }
  if (v.k === V_CONST) return { known: true, value: wide ? v.c! : v.c! & MASK32 };
  if (v.k === V_UNKNOWN) return { known: false, why: v.why ?? NOT_FOLLOWED.why! };
  if (v.k === V_SLOT) return { known: false, why: 'the address of an imported function' };
  return { known: false, why: 'an address, not a constant' };
}

function apply(state: State, insn: Insn, m: Machine, input: RegionInput): void {
  for (const e of insn.effects) applyEffect(state, e, m, input);
  if (insn.flow === FLOW_CALL || insn.flow === FLOW_INDIRECT_CALL) {
    // A callee given a pointer into the frame (in a register or stack argument) may write
    // anywhere in it; callee-saved registers holding frame pointers are not given to it.
    const frameShared =
      state.escaped ||
      state.regs.some((v, r) => v.k === V_STACK && (m.volatile & bit(r)) !== 0) ||
      [...state.stack.values()].some((e) => e.v.k === V_STACK);
    for (let r = 0; r < 32; r++) if (m.volatile & bit(r)) state.regs[r] = AFTER_CALL;
    if (frameShared) state.fpStack.clear();
    if (m.calleeArea === undefined || frameShared) {
      // x86: a stdcall callee pops its arguments, by an amount not known here.
      rebase(state);
    } else {
      // x64 and ARM64 calls keep sp, so values spilled to the frame (at /Od, even the slot
      // pointer) survive the call; only the callee's home area is its own.
      invalidate(state.stack, state.sp, m.calleeArea);
    }
  }
}

function rebase(state: State): void {
  state.stack.clear();
  state.sp = 0;
  state.escaped = false;
  // Frame pointers keep pointing into the frame, at offsets no longer comparable with sp.
  for (let r = 0; r < 32; r++) if (state.regs[r]!.k === V_STACK && state.regs[r]!.a !== undefined) state.regs[r] = STACK;
}

/** A register's value; sp is a frame pointer at the current offset. */
function regVal(state: State, m: Machine, r: number): Val {
  return r === m.sp ? { k: V_STACK, a: state.sp } : state.regs[r]!;
}

/** The frame offset [base + disp] refers to, when base points into the frame at a known offset. */
function frameOffset(state: State, m: Machine, base: number, disp: number, indexed: boolean): number | undefined {
  if (indexed || base < 0) return undefined;
  const b = regVal(state, m, base);
  return b.k === V_STACK && b.a !== undefined ? b.a + disp : undefined;
}

function setReg(state: State, m: Machine, r: number, v: Val): void {
  if (r < 0 || r >= 32) return;
  if (r === m.sp) {
    rebase(state);
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

function applyEffect(state: State, e: Effect, m: Machine, input: RegionInput): void {
  switch (e.op) {
    case 'set':
      setReg(state, m, e.r, e.v);
      return;
    case 'copy':
      setReg(state, m, e.r, truncate(regVal(state, m, e.s), e.w32));
      return;
    case 'alu': {
      if (e.r === m.sp && e.s === m.sp && (e.fn === 'add' || e.fn === 'sub')) {
        state.sp += Number(BigInt.asIntN(64, e.fn === 'add' ? e.imm : -e.imm));
        return;
      }
      let s = regVal(state, m, e.s);
      // An address computed from the frame pointer is taken to point into the frame.
      if (e.s === m.fp && s.k === V_UNKNOWN && (e.fn === 'add' || e.fn === 'sub')) s = STACK;
      setReg(state, m, e.r, aluVal(s, e.fn, e.imm, e.w32));
      return;
    }
    case 'insert16': {
      const s = state.regs[e.r]!;
      if (s.k !== V_CONST) {
        setReg(state, m, e.r, NOT_FOLLOWED);
        return;
      }
      const mask = 0xffffn << BigInt(e.shift);
      setReg(state, m, e.r, truncate(constVal((s.c! & ~mask & MASK64) | (e.imm << BigInt(e.shift))), e.w32));
      return;
    }
    case 'load': {
      setReg(state, m, e.r, truncate(loadVal(state, m, e.base, e.disp, e.size, input), e.w32 === true));
      return;
    }
    case 'store': {
      const v = e.src >= 0 ? regVal(state, m, e.src) : (e.v ?? NOT_FOLLOWED);
      // A pointer stored in fewer bytes than a pointer is not that pointer any more.
      const narrowed = e.size < m.ptrSize && v.k !== V_CONST && v.k !== V_UNKNOWN ? NOT_FOLLOWED : sized(v, e.size);
      storeTo(state, m, e.base, e.disp, e.size, narrowed, e.indexed === true);
      return;
    }
    case 'memwrite': {
      // Without a size (an instruction iced does not size), assume the widest vector store.
      const at = frameOffset(state, m, e.base, e.disp, e.indexed === true);
      if (at !== undefined) invalidate(state.stack, at, e.size ?? 64);
      else if (viaFramePointer(state, m, e.base, e.indexed === true)) invalidate(state.fpStack, e.disp, e.size ?? 64);
      else if (pointsToStack(state, m, e.base)) clearFrame(state);
      return;
    }
    case 'push': {
      const v = e.src >= 0 ? regVal(state, m, e.src) : (e.v ?? NOT_FOLLOWED);
      state.sp -= e.size;
      invalidate(state.stack, state.sp, e.size);
      state.stack.set(state.sp, { v: sized(v, e.size), size: e.size });
      return;
    }
    case 'pop': {
      const entry = state.stack.get(state.sp);
      const v = entry && entry.size === e.size ? entry.v : FROM_MEMORY;
      state.sp += e.size;
      if (e.r >= 0) setReg(state, m, e.r, v);
      return;
    }
    case 'sp':
      state.sp += e.delta;
      return;
    case 'spunknown':
      rebase(state);
      return;
    case 'clobber':
      for (let r = 0; r < 32; r++) if (e.mask & bit(r)) setReg(state, m, r, NOT_FOLLOWED);
      return;
  }
}

function sized(v: Val, size: number): Val {
  if (v.k !== V_CONST) return v;
  return size >= 8 ? v : constVal(v.c! & ((1n << BigInt(size * 8)) - 1n));
}

function aluVal(s: Val, fn: 'add' | 'sub' | 'or' | 'and' | 'xor', imm: bigint, w32: boolean): Val {
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
  if (s.k === V_ADDR && !w32 && (fn === 'add' || fn === 'sub')) {
    const d = Number(BigInt.asIntN(64, imm));
    return addrVal(fn === 'add' ? s.a! + d : s.a! - d);
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

function loadVal(state: State, m: Machine, base: number, disp: number, size: number, input: RegionInput): Val {
  let addr: number | undefined;
  if (base === BASE_ABS) addr = disp;
  else if (base >= 0) {
    const b = regVal(state, m, base);
    if (b.k === V_ADDR) addr = b.a! + disp;
  }
  if (addr !== undefined) {
    if (size === m.ptrSize && input.slots.has(addr)) return { k: V_SLOT, a: addr };
    return FROM_MEMORY;
  }
  if (base === BASE_OTHER) return FROM_MEMORY;
  const at = frameOffset(state, m, base, disp, false);
  const e = at !== undefined ? state.stack.get(at) : viaFramePointer(state, m, base, false) ? state.fpStack.get(disp) : undefined;
  return e && e.size === size ? e.v : FROM_MEMORY;
}

function storeTo(state: State, m: Machine, base: number, disp: number, size: number, v: Val, indexed: boolean): void {
  const at = frameOffset(state, m, base, disp, indexed);
  if (at !== undefined) {
    invalidate(state.stack, at, size);
    state.stack.set(at, { v, size });
  } else if (viaFramePointer(state, m, base, indexed)) {
    invalidate(state.fpStack, disp, size);
    state.fpStack.set(disp, { v, size });
  } else if (pointsToStack(state, m, base)) {
    // A store through a pointer into the frame at an unknown offset may hit any slot.
    clearFrame(state);
  } else if (v.k === V_STACK) {
    state.escaped = true;
  }
}

function clearFrame(state: State): void {
  state.stack.clear();
  state.fpStack.clear();
}

function invalidate(map: Map<number, StackEntry>, at: number, size: number): void {
  for (const [k, e] of map) {
    if (k < at + size && at < k + e.size) map.delete(k);
  }
}
