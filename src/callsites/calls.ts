/**
 * Finds, in one decoded region, the calls to the DDIs of interest and the argument that
 * decides executability, and follows every reference to their IAT slots or import thunks
 * to its use: a call, or a way out of the analysis' sight (stored to memory, passed to
 * another function, returned), or nowhere. ./index.ts turns the last kinds into notes, so
 * that no reference is silently dropped.
 */
import { buildBlocks, effectivePreds, type Block } from './cfg.js';
import { solve } from './fixpoint.js';
import {
  BASE_ABS,
  FLOW_CALL,
  FLOW_INDIRECT_CALL,
  FLOW_INDIRECT_JUMP,
  FLOW_JUMP,
  FLOW_NEXT,
  FLOW_RETURN,
  MASK32,
  NOT_FOLLOWED,
  V_ADDR,
  V_CONST,
  V_SLOT,
  V_UNKNOWN,
  type Insn,
  type Val,
} from './ir.js';
import { apply, calleeOf, storesOutsideFrame, type Callee, type ImageFacts } from './interpret.js';
import { entryState, type State } from './state.js';
import type { CallKind, CallTarget, DecidingParam, RecoveredArg, RefUse } from './types.js';

export type { SlotInfo } from './types.js';

export interface RegionInput {
  insns: Insn[];
  facts: ImageFacts;
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
  /** The target's `also` parameter. */
  also: RecoveredArg | undefined;
}

/** An instruction that loads a slot or takes the address of a slot or thunk, and what became of it. */
export interface SlotRef {
  rva: number;
  len: number;
  /** The IAT slot (for a thunk's address, the slot its thunk jumps through). */
  slot: number;
  uses: Set<RefUse>;
  /** Where the value left the analysis' sight, for the note. */
  at: number;
}

export interface RegionResult {
  calls: FoundCall[];
  /** Thunks found in this region: thunk RVA -> slot RVA. */
  thunks: Map<number, number>;
  refs: Map<number, SlotRef>;
  /** False when the budget ran out or the flow did not settle: nothing of the region was checked. */
  complete: boolean;
}

export function analyseRegion(input: RegionInput, budget: { left: number }): RegionResult {
  const { insns, facts } = input;
  const result: RegionResult = { calls: [], thunks: new Map(), refs: new Map(), complete: true };
  if (insns.length === 0) return result;
  const blocks = buildBlocks(insns, input.entries, facts);
  const local = blockLocal(input, blocks);
  if (local) return local;
  const ins = solve(insns, blocks, facts, budget);
  if (!ins) {
    result.complete = false;
    return result;
  }
  const several = new Map<number, Set<RefUse>>();
  // The in-states are not needed after this pass: each block's is walked in place.
  for (let b = 0; b < blocks.length; b++) walkBlock(input, blocks, b, ins[b]!, result, several);
  // A value loaded on several paths: its uses count for every load of that slot here.
  for (const [slot, uses] of several) {
    for (const ref of result.refs.values()) if (ref.slot === slot) for (const u of uses) ref.uses.add(u);
  }
  return result;
}

/**
 * The fast path, for the common shape: every reference to a checked DDI in the region is a
 * direct call (`call [slot]`, a call to its thunk), and each call's argument is a constant
 * set in its own block, before any other call or store through a register there. Such a
 * constant is what the whole-function flow would find too: nothing from another block can
 * change it. Anything else (a slot loaded into a register, an address taken, an argument
 * from another block, guarded or retpoline calls, ARM64's adrp pairs) returns undefined and
 * takes the whole-function flow. It halves the work on ordinary drivers (the 25 MB
 * benchmark check: 3.8 ms -> ~1 ms in the analysis of its regions).
 */
function blockLocal(input: RegionInput, blocks: readonly Block[]): RegionResult | undefined {
  const { insns, facts } = input;
  const m = facts.machine;
  if (m.regCount !== 16) return undefined;
  for (const x of insns) {
    if (x.viaReg >= 0) return undefined;
    if (x.viaSlot >= 0 && facts.special.has(x.viaSlot) && facts.special.get(x.viaSlot) !== 'noreturn') return undefined;
    for (const e of x.effects) {
      if (e.op === 'load' && e.base === BASE_ABS && (facts.slots.has(e.disp) || facts.special.has(e.disp))) return undefined;
      if ((e.op === 'set' || e.op === 'push') && e.v?.k === V_ADDR && (facts.slots.has(e.v.a!) || facts.thunks.has(e.v.a!))) return undefined;
    }
  }
  const result: RegionResult = { calls: [], thunks: new Map(), refs: new Map(), complete: true };
  const several = new Map<number, Set<RefUse>>();
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b]!;
    let direct = false;
    for (let i = block.start; i < block.end && !direct; i++) direct = callsDdiDirectly(insns[i]!, facts);
    if (!direct) continue;
    if (!firstCallAfterFrameStores(insns, block, facts)) return undefined;
    walkBlock(input, blocks, b, entryState(m.regCount), result, several);
  }
  for (const call of result.calls) {
    if (call.arg && !call.arg.known) return undefined;
    if (call.also && !call.also.known) return undefined;
  }
  return result;
}

/**
 * Whether the block's first call or jump is the one to the DDI, with no store before it
 * through a register other than sp (which could alias the arguments through a frame
 * pointer set in another block).
 */
function firstCallAfterFrameStores(insns: readonly Insn[], block: Block, facts: ImageFacts): boolean {
  let i = block.start;
  for (; i < block.end && insns[i]!.flow === FLOW_NEXT; i++) {
    for (const e of insns[i]!.effects) {
      if ((e.op === 'store' || e.op === 'memwrite') && e.base !== facts.machine.sp && e.base !== BASE_ABS) return false;
    }
  }
  if (i >= block.end || !callsDdiDirectly(insns[i]!, facts)) return false;
  // One DDI call per block: a second one's arguments could have lived through the first.
  for (let j = i + 1; j < block.end; j++) if (callsDdiDirectly(insns[j]!, facts)) return false;
  return true;
}

/** `call [slot]` / `jmp [slot]` of a checked DDI, or a call or jump to its thunk. */
function callsDdiDirectly(x: Insn, facts: ImageFacts): boolean {
  return (x.viaSlot >= 0 && facts.slots.has(x.viaSlot)) || (x.target >= 0 && facts.thunks.has(x.target));
}

/** The slot an interesting value leads to: an import's value or address, or a thunk's address. */
function slotOf(v: Val, f: ImageFacts): number | undefined {
  if (v.k === V_SLOT && f.slots.has(v.a!)) return v.a!;
  if (v.k === V_ADDR) {
    if (f.slots.has(v.a!)) return v.a!;
    return f.thunks.get(v.a!);
  }
  return undefined;
}

function walkBlock(input: RegionInput, blocks: readonly Block[], b: number, state: State, result: RegionResult, several: Map<number, Set<RefUse>>): void {
  const { insns, facts } = input;
  const m = facts.machine;
  const block = blocks[b]!;
  const use = (v: Val, what: RefUse, at: number): void => {
    const slot = slotOf(v, facts);
    if (slot !== undefined && v.src !== undefined) useRef(slot, v.src, what, at);
  };
  const useRef = (slot: number, src: number, what: RefUse, at: number): void => {
    if (src === -2) {
      let set = several.get(slot);
      if (!set) several.set(slot, (set = new Set()));
      set.add(what);
      return;
    }
    const ref = result.refs.get(src);
    if (ref) {
      ref.uses.add(what);
      if (what !== 'call') ref.at = at;
    }
  };
  for (let i = block.start; i < block.end; i++) {
    const insn = insns[i]!;
    let callee: Callee | undefined;
    if (insn.flow !== FLOW_NEXT) {
      callee = calleeOf(insn, state, facts);
      if (callee.kind === 'import') {
        const tail = insn.flow === FLOW_JUMP || insn.flow === FLOW_INDIRECT_JUMP;
        // A jump through the slot that starts code nothing in the region reaches, with
        // nothing before it but the load of the jump register, is an import thunk (or a
        // wrapper that passes its arguments through): its callers are the call sites.
        const isThunk =
          tail && callee.via !== 'thunk' && effectivePreds(blocks, b).length === 0 && writesOnly(insns, block.start, i, insn.viaReg);
        if (callee.via === 'slot') addRef(result, insn, callee.slot).uses.add('call');
        else if (insn.flow === FLOW_INDIRECT_CALL || insn.flow === FLOW_INDIRECT_JUMP) useRef(callee.slot, callee.src, 'call', insn.rva);
        if (isThunk) {
          result.thunks.set(insns[block.start]!.rva, callee.slot);
        } else {
          const info = facts.slots.get(callee.slot)!;
          const target = input.targets.get(info.ddi);
          const param = target?.param;
          const also = target?.also;
          const kind: CallKind = callee.via === 'thunk' ? (tail ? 'tail call via thunk' : 'call via thunk') : tail ? 'tail call' : 'call';
          result.calls.push({
            rva: insn.rva,
            len: insn.len,
            slot: callee.slot,
            kind,
            via: callee.via,
            arg: param ? readArg(state, input, param, tail) : undefined,
            also: also ? readArg(state, input, also, tail) : undefined,
          });
        }
      } else if ((insn.flow === FLOW_CALL || insn.flow === FLOW_INDIRECT_CALL) && callee.kind === 'other') {
        // An import's address given to another function: calls through it are not followed.
        for (const r of m.argRegs) use(state.regs[r]!, 'passed', insn.rva);
        for (const [at, e] of state.stack) if (at >= state.sp && at < state.sp + 8 * m.ptrSize) use(e.v, 'passed', insn.rva);
      } else if (insn.flow === FLOW_RETURN) {
        use(state.regs[0]!, 'returned', insn.rva);
      }
    }
    for (const e of insn.effects) {
      if (e.op === 'store' && e.src >= 0 && storesOutsideFrame(state, m, e)) use(state.regs[e.src]!, 'stored', insn.rva);
    }
    apply(state, insn, facts, callee);
    // References made by this instruction: a loaded slot, or an address of a slot or thunk.
    for (const e of insn.effects) {
      const r = e.op === 'set' || e.op === 'load' || e.op === 'alu' ? e.r : e.op === 'push' ? -1 : -2;
      const v = r >= 0 ? state.regs[r] : r === -1 ? state.stack.get(state.sp)?.v : undefined;
      if (v && v.src === insn.rva) {
        const slot = slotOf(v, facts);
        if (slot !== undefined) addRef(result, insn, slot);
      }
    }
  }
}

function addRef(result: RegionResult, insn: Insn, slot: number): SlotRef {
  let ref = result.refs.get(insn.rva);
  if (!ref) result.refs.set(insn.rva, (ref = { rva: insn.rva, len: insn.len, slot, uses: new Set(), at: insn.rva }));
  return ref;
}

/** True when instructions [from, to) write no register other than `r` (none when r < 0) and store nothing. */
function writesOnly(insns: readonly Insn[], from: number, to: number, r: number): boolean {
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

function readArg(state: State, input: RegionInput, { index, x86Slot, wide }: DecidingParam, tail: boolean): RecoveredArg {
  const m = input.facts.machine;
  let v: Val;
  if (index < m.argRegs.length) {
    v = state.regs[m.argRegs[index]!]!;
  } else {
    const slot = m.argRegs.length === 0 ? (x86Slot ?? index) : index;
    const e = state.stack.get(state.sp + m.stackArg(slot, tail));
    if (!e) return { known: false, reason: 'no-stack-store' };
    if (e.size < 4) return { known: false, reason: 'partial-store' };
    v = e.v;
  }
  if (v.k === V_CONST) return { known: true, value: wide ? v.c! : v.c! & MASK32 };
  if (v.k === V_UNKNOWN) return { known: false, reason: v.why ?? NOT_FOLLOWED.why! };
  if (v.k === V_SLOT) return { known: false, reason: 'import-address' };
  return { known: false, reason: 'address' };
}
