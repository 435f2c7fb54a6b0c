/**
 * A forward data flow over one region's control-flow graph: the state at the start of
 * every block, joined over all paths that reach it (./state.ts says how values join).
 *
 * Blocks that nothing in the region reaches (switch cases reached through a jump table)
 * may be entered from any indirect jump of the region: they take their state from one
 * extra node that joins the indirect jumps' states, so 8,000 indirect jumps cost 8,000
 * joins, not 8,000 for each of them. The work is charged to the analysis budget.
 */
import { FLOW_CALL, FLOW_INDIRECT_CALL, type Insn } from './ir.js';
import { effectivePreds, endsWithTableJump, type Block } from './cfg.js';
import { apply, calleeOf, type ImageFacts } from './interpret.js';
import { cloneState, entryState, joinStates, sameState, type State } from './state.js';

/** Changes of one block's state allowed on average before the region is given up as hostile. */
const MAX_ROUNDS = 64;

/** Runs one block from `state` (changed in place). */
export function transfer(insns: readonly Insn[], block: Block, state: State, f: ImageFacts): void {
  for (let i = block.start; i < block.end; i++) {
    const x = insns[i]!;
    const callee = x.flow === FLOW_CALL || x.flow === FLOW_INDIRECT_CALL ? calleeOf(x, state, f) : undefined;
    apply(state, x, f, callee);
  }
}

/**
 * The entry state of every block, or undefined when the budget ran out (`budget.left` is
 * then 0 or below) or the flow did not settle.
 */
export function solve(insns: readonly Insn[], blocks: readonly Block[], f: ImageFacts, budget: { left: number }): State[] | undefined {
  const n = blocks.length;
  const J = n; // the jump-table node
  const preds: number[][] = blocks.map((_, b) => effectivePreds(blocks, b));
  const indirect = blocks.some((blk) => endsWithTableJump(insns, blk));
  const isEntry = new Uint8Array(n);
  const succs: number[][] = Array.from({ length: n + 1 }, () => []);
  for (let b = 0; b < n; b++) {
    if (blocks[b]!.entry || (preds[b]!.length === 0 && !indirect)) isEntry[b] = 1;
    else if (preds[b]!.length === 0) preds[b] = [J];
    for (const p of preds[b]!) succs[p]!.push(b);
  }
  for (let b = 0; b < n; b++) if (endsWithTableJump(insns, blocks[b]!)) succs[b]!.push(J);

  const outs: (State | undefined)[] = new Array(n + 1);
  const ins: (State | undefined)[] = new Array(n);
  const queue: number[] = [];
  const queued = new Uint8Array(n + 1);
  for (let b = 0; b < n; b++) {
    queue.push(b);
    queued[b] = 1;
  }
  let steps = 0;
  const limit = n * MAX_ROUNDS + 100;
  for (let q = 0; q < queue.length; q++) {
    const b = queue[q]!;
    queued[b] = 0;
    if (++steps > limit) return undefined;
    // Keep the queue from growing without bound: drop what was processed.
    if (q > 4096 && q * 2 > queue.length) {
      queue.splice(0, q + 1);
      q = -1;
    }
    let state: State;
    if (isEntry[b]) state = entryState(f.machine.regCount);
    else {
      const reached: State[] = [];
      for (const p of preds[b]!) {
        const o = outs[p];
        if (o) reached.push(o);
      }
      if (reached.length === 0) continue;
      state = joinStates(reached, -(b + 2));
    }
    ins[b] = cloneState(state);
    const block = blocks[b]!;
    budget.left -= block.end - block.start;
    if (budget.left <= 0) return undefined;
    transfer(insns, block, state, f);
    const old = outs[b];
    if (old && sameState(old, state)) continue;
    outs[b] = state;
    for (const s of succs[b]!) {
      if (s === J) {
        // Values only lose precision as the flow settles, so folding each new state into
        // the running join gives the join of all of them.
        const joined = outs[J] ? joinStates([outs[J]!, state], -1 - (n + 2)) : cloneState(state);
        if (outs[J] && sameState(outs[J]!, joined)) continue;
        outs[J] = joined;
        for (const o of succs[J]!) {
          if (!queued[o]) {
            queued[o] = 1;
            queue.push(o);
          }
        }
      } else if (!queued[s]) {
        queued[s] = 1;
        queue.push(s);
      }
    }
  }
  return Array.from(ins, (s) => s ?? entryState(f.machine.regCount));
}
