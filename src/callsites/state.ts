/**
 * The abstract state the interpreter follows through a function: registers, the stack
 * frame as slots at offsets from a frame base, and how states of several paths join.
 * A value counts as a constant after a join only when every path agrees.
 */
import { DIFFERS, NOT_SET, STACK, V_ADDR, V_CONST, V_SLOT, V_STACK, V_UNKNOWN, type Val } from './ir.js';

export interface StackEntry {
  v: Val;
  size: number;
}

/** Bytes a single stack entry covers at most (a store of a general register). */
export const MAX_ENTRY_SIZE = 8;
/**
 * Stack slots kept per state. A hostile block of 80,000 pushes would otherwise grow one
 * state to 80,000 entries and every join with it; the slots that hold call arguments are
 * the last few dozen written, and a dropped slot only becomes unknown.
 */
export const MAX_STACK_ENTRIES = 128;

export interface State {
  regs: Val[];
  /**
   * Which frame base `sp` and the stack offsets are measured from: -1 at the function's
   * start; a new id where the analysis lost track of sp (x86 stdcall calls, joins of paths
   * that disagree), so offsets of two different bases are never compared.
   */
  frame: number;
  sp: number;
  stack: Map<number, StackEntry>;
  /**
   * Slots addressed through the frame pointer (x86 /Od spills: [ebp-8]) when its offset from
   * sp is not known, keyed by displacement. They survive calls, as ebp does.
   */
  fpStack: Map<number, StackEntry>;
  /** A pointer into the frame was stored outside it: a callee may write anywhere in the frame. */
  escaped: boolean;
}

export function entryState(regCount: number): State {
  return { regs: new Array<Val>(regCount).fill(NOT_SET), frame: -1, sp: 0, stack: new Map(), fpStack: new Map(), escaped: false };
}

export function cloneState(s: State): State {
  return { regs: s.regs.slice(), frame: s.frame, sp: s.sp, stack: new Map(s.stack), fpStack: new Map(s.fpStack), escaped: s.escaped };
}

export function sameVal(a: Val, b: Val): boolean {
  if (a === b) return true;
  if (a.k !== b.k) return false;
  switch (a.k) {
    case V_CONST:
      return a.c === b.c;
    case V_ADDR:
    case V_SLOT:
      return a.a === b.a && a.src === b.src;
    case V_STACK:
      return a.a === b.a;
    default:
      return true;
  }
}

/** One value for two paths: theirs when they agree; the import, from several loads; else unknown. */
function join2(a: Val, b: Val): Val {
  if (sameVal(a, b)) return a;
  // The same import (or address) loaded on two paths: keep it, from "several" loads.
  if ((a.k === V_SLOT || a.k === V_ADDR) && b.k === a.k && b.a === a.a) return a.src === -2 ? a : { k: a.k, a: a.a, src: -2 };
  if (a.k === V_UNKNOWN && b.k === V_UNKNOWN) return a;
  if (a.k === V_STACK && b.k === V_STACK) return STACK;
  return DIFFERS;
}

/** The slots every map holds with one size, each joined over the maps. */
function joinMaps(maps: readonly Map<number, StackEntry>[]): Map<number, StackEntry> {
  const out = new Map<number, StackEntry>();
  const [first, ...rest] = maps;
  entries: for (const [k, e] of first!) {
    let v = e.v;
    for (const m of rest) {
      const o = m.get(k);
      if (!o || o.size !== e.size) continue entries;
      v = join2(v, o.v);
    }
    out.set(k, { v, size: e.size });
  }
  return out;
}

/**
 * The state at a point several paths reach. `id` names the new frame base when the paths
 * disagree on where sp is (deterministic, so the fixpoint converges).
 */
export function joinStates(states: readonly State[], id: number): State {
  if (states.length === 1) return cloneState(states[0]!);
  const first = states[0]!;
  const regs = first.regs.slice();
  for (let i = 1; i < states.length; i++) {
    const other = states[i]!.regs;
    for (let r = 0; r < regs.length; r++) if (regs[r] !== other[r]) regs[r] = join2(regs[r]!, other[r]!);
  }
  const sameFrame = states.every((s) => s.frame === first.frame && s.sp === first.sp);
  const out: State = {
    regs,
    frame: sameFrame ? first.frame : id,
    sp: sameFrame ? first.sp : 0,
    stack: sameFrame ? joinMaps(states.map((s) => s.stack)) : new Map(),
    fpStack: joinMaps(states.map((s) => s.fpStack)),
    escaped: states.some((s) => s.escaped),
  };
  if (!sameFrame) {
    // Pointers into the frame keep pointing into it, at offsets no longer comparable with sp.
    for (let r = 0; r < regs.length; r++) if (regs[r]!.k === V_STACK && regs[r]!.a !== undefined) regs[r] = STACK;
  }
  return out;
}

function sameMap(a: Map<number, StackEntry>, b: Map<number, StackEntry>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, e] of a) {
    const o = b.get(k);
    if (!o || o.size !== e.size || !sameVal(o.v, e.v)) return false;
  }
  return true;
}

export function sameState(a: State, b: State): boolean {
  if (a.frame !== b.frame || a.sp !== b.sp || a.escaped !== b.escaped) return false;
  for (let r = 0; r < a.regs.length; r++) if (!sameVal(a.regs[r]!, b.regs[r]!)) return false;
  return sameMap(a.stack, b.stack) && sameMap(a.fpStack, b.fpStack);
}

/** Forgets the entries overlapping [at, at + size): a bounded number of probes, not a scan. */
export function invalidate(map: Map<number, StackEntry>, at: number, size: number): void {
  if (map.size === 0) return;
  if (size > 4 * MAX_STACK_ENTRIES) {
    map.clear();
    return;
  }
  for (let k = at - MAX_ENTRY_SIZE + 1; k < at + size; k++) {
    const e = map.get(k);
    if (e && k + e.size > at) map.delete(k);
  }
}

/** Records an entry, dropping the oldest when the map is full (it becomes unknown). */
export function record(map: Map<number, StackEntry>, at: number, entry: StackEntry): void {
  map.delete(at);
  if (map.size >= MAX_STACK_ENTRIES) map.delete(map.keys().next().value!);
  map.set(at, entry);
}
