/**
 * The control-flow graph of one decoded region: basic blocks, their successors, and the
 * predecessors the fixpoint joins. Calls to functions that never return end their block
 * with no successor, so a path that never comes back never dilutes the values of the
 * paths that do.
 */
import { FLOW_CALL, FLOW_COND_JUMP, FLOW_INDIRECT_CALL, FLOW_INDIRECT_JUMP, FLOW_JUMP, FLOW_NEXT, type Insn } from './ir.js';
import type { ImageFacts } from './interpret.js';

export interface Block {
  /** Instruction indices [start, end). */
  start: number;
  end: number;
  succ: number[];
  pred: number[];
  /** Starts a function: region start, a direct call target, a .pdata start. */
  entry: boolean;
  /** Only nop/int3: the padding between functions. */
  padding: boolean;
}

/** A call to an import (or its thunk) that never returns: KeBugCheckEx and the like. */
export function callsNoReturn(x: Insn, f: ImageFacts): boolean {
  if (x.flow === FLOW_CALL) return f.noreturnThunks.has(x.target);
  if (x.flow === FLOW_INDIRECT_CALL) return x.viaSlot >= 0 && f.special.get(x.viaSlot) === 'noreturn';
  return false;
}

export function buildBlocks(insns: readonly Insn[], entries: ReadonlySet<number>, f: ImageFacts): Block[] {
  // Instruction index by offset from the region start (-1 inside an instruction): a
  // typed array, not a Map, for regions of hundreds of thousands of instructions.
  const base = insns[0]!.rva;
  const last = insns[insns.length - 1]!;
  const byOffset = new Int32Array(last.rva + last.len - base).fill(-1);
  for (let i = 0; i < insns.length; i++) byOffset[insns[i]!.rva - base] = i;
  const indexOf = (rva: number): number => {
    const k = rva - base;
    return k >= 0 && k < byOffset.length ? byOffset[k]! : -1;
  };
  const leader = new Uint8Array(insns.length + 1);
  const entry = new Uint8Array(insns.length);
  const ends = new Uint8Array(insns.length);
  leader[0] = 1;
  entry[0] = 1;
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    if (entries.has(x.rva)) {
      leader[i] = 1;
      entry[i] = 1;
    }
    if (x.flow === FLOW_NEXT || x.flow === FLOW_CALL || x.flow === FLOW_INDIRECT_CALL) {
      // A direct call target inside the region starts a function.
      if (x.flow === FLOW_CALL) {
        const t = indexOf(x.target);
        if (t >= 0) {
          leader[t] = 1;
          entry[t] = 1;
        }
      }
      if (x.flow !== FLOW_NEXT && callsNoReturn(x, f)) {
        ends[i] = 1;
        leader[i + 1] = 1;
      }
      continue;
    }
    leader[i + 1] = 1;
    if (x.flow === FLOW_JUMP || x.flow === FLOW_COND_JUMP) {
      const t = indexOf(x.target);
      if (t >= 0) leader[t] = 1;
    }
  }
  const blocks: Block[] = [];
  const blockOf = new Int32Array(insns.length);
  for (let i = 0; i < insns.length; ) {
    let j = i + 1;
    while (j < insns.length && !leader[j]) j++;
    let padding = true;
    for (let k = i; k < j && padding; k++) padding = insns[k]!.padding;
    blocks.push({ start: i, end: j, succ: [], pred: [], entry: entry[i] === 1, padding });
    blockOf.fill(blocks.length - 1, i, j);
    i = j;
  }
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b]!;
    const lastIndex = block.end - 1;
    const x = insns[lastIndex]!;
    const add = (to: number): void => {
      if (!block.succ.includes(to)) {
        block.succ.push(to);
        blocks[to]!.pred.push(b);
      }
    };
    const fallsThrough =
      x.flow === FLOW_NEXT || x.flow === FLOW_COND_JUMP || ((x.flow === FLOW_CALL || x.flow === FLOW_INDIRECT_CALL) && !ends[lastIndex]);
    if (fallsThrough && b + 1 < blocks.length) add(b + 1);
    if (x.flow === FLOW_JUMP || x.flow === FLOW_COND_JUMP) {
      const t = indexOf(x.target);
      if (t >= 0) add(blockOf[t]!);
    }
  }
  return blocks;
}

/** Predecessors, not counting padding (nop/int3 runs) that nothing reaches. */
export function effectivePreds(blocks: readonly Block[], b: number): number[] {
  return blocks[b]!.pred.filter((p) => !(blocks[p]!.padding && blocks[p]!.pred.length === 0));
}

/**
 * Whether the block ends with a jump that may go through a jump table: an indirect jump
 * through a register or an indexed operand. `jmp [rip+x]` / `jmp [abs]` goes through one
 * pointer (a tail call through the IAT or a function pointer), never to a case of this
 * function.
 */
export function endsWithTableJump(insns: readonly Insn[], block: Block): boolean {
  const x = insns[block.end - 1]!;
  return x.flow === FLOW_INDIRECT_JUMP && x.viaSlot < 0;
}
