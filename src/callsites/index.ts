/**
 * Call-site analysis: finds each call to an imported DDI of interest in the linked code
 * and recovers the argument that decides whether it hands out executable memory.
 *
 * 1. The IAT slots of the DDIs of interest come from the import directory; the slots of
 *    imports that never return, and the CFG guard pointers (load configuration), matter too.
 * 2. A byte scan of the executable sections finds the instructions that can reference
 *    those slots (RIP-relative or absolute operands, adrp/adr/ldr on ARM64). Nothing else
 *    is decoded, and iced-x86 is loaded only when the scan found something.
 * 3. Each function holding a reference is decoded from its start (.pdata on x64 and
 *    ARM64; the gap between .pdata functions for leaf functions and thunks; the whole
 *    section on x86) and analysed (./calls.ts: a data flow over the function's blocks).
 * 4. Import thunks found on the way (`jmp [slot]`) lead to a second scan, for direct
 *    calls and jumps to them and for their addresses, and to the functions that hold those.
 * 5. Fail closed: every reference the scan found is accounted for. One the decoding went
 *    past (it started inside an instruction) is decoded again from its own start; one whose
 *    value leaves the analysis' sight, and every pointer to a slot or thunk in data, becomes
 *    an untracked reference, which the rules report as a note.
 */
import { IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_EXECUTE, MACHINE_AMD64, MACHINE_ARM64, MACHINE_ARMNT, MACHINE_I386 } from '../pe/constants.js';
import type { PeImage } from '../pe/image.js';
import { guardPointers } from '../pe/load-config.js';
import type { ByteSource } from '../pe/source.js';
import { ARM64, arm64Frontend } from './arm64.js';
import { analyseRegion, type FoundCall, type RegionResult, type SlotRef } from './calls.js';
import {
  codeSections,
  functionTable,
  regionFor,
  scanAbsolute,
  scanArm64,
  scanDirectBranches,
  scanImportThunks,
  scanRipRelative,
  sectionAt,
  slotBounds,
  type CodeSection,
  type FunctionTable,
} from './code.js';
import { pointersInData } from './data-refs.js';
import { glueDecoder, type DecoderProvider } from './iced.js';
import type { ImageFacts, SpecialSlot } from './interpret.js';
import type { Frontend, Insn, Machine } from './ir.js';
import { lastAtOrBefore } from './last-at-or-before.js';
import type { CallSite, CallSiteAnalysis, CallTarget, SkippedPart, SlotInfo, UntrackedRef } from './types.js';
import { X64, X86, x86Frontend } from './x86.js';

export type { CallSite, CallSiteAnalysis, CallTarget, DecidingParam, RecoveredArg, UntrackedRef, SkippedPart } from './types.js';

/**
 * Work allowed per image, in instructions decoded or interpreted (the data flow charges
 * each pass over a block): bounds the time spent on hostile code.
 */
export const INSTRUCTION_BUDGET = 2_000_000;

/** Stretches without .pdata larger than this are split at probable function starts first. */
const SWEEP_SPLIT = 4096;

/**
 * Imports that never return: a call to one ends its block, so the path through it (which
 * never set the registers the code after it uses) does not mix with the paths that return.
 */
export const NO_RETURN = [
  'KeBugCheckEx',
  'KeBugCheck',
  'ExRaiseStatus',
  'RtlRaiseStatus',
  'ExRaiseAccessViolation',
  'ExRaiseDatatypeMisalignment',
  'PsTerminateSystemThread',
];

export interface AnalyseOptions {
  budget?: number;
  /** Where iced-x86 comes from (default: its glue, no file written); the CLI passes snapshotDecoder(). */
  decoder?: DecoderProvider;
}

type Arch = 'x64' | 'x86' | 'arm64';

export function analyseCallSites(
  src: ByteSource,
  image: PeImage,
  targets: readonly CallTarget[],
  options: AnalyseOptions = {},
): CallSiteAnalysis {
  const h = image.headers;
  const skipped: SkippedPart[] = [];
  const untracked: UntrackedRef[] = [];
  const sites: CallSite[] = [];
  const references: CallSiteAnalysis['references'] = [];
  const none = (): CallSiteAnalysis => ({ sites, untracked, references, skipped });
  const byName = new Map(targets.map((t) => [t.ddi, t]));
  const slots = new Map<number, SlotInfo>();
  const special = new Map<number, SpecialSlot>();
  const noReturn = new Set(NO_RETURN);
  for (const mod of image.imports) {
    for (const fn of mod.functions) {
      if (fn.name === undefined) continue;
      if (byName.has(fn.name)) slots.set(fn.slotRva, { ddi: fn.name, dll: mod.dll });
      else if (noReturn.has(fn.name)) special.set(fn.slotRva, 'noreturn');
    }
  }
  if (slots.size === 0) return none();
  const arch: Arch | undefined =
    h.machine === MACHINE_AMD64 ? 'x64' : h.machine === MACHINE_I386 ? 'x86' : h.machine === MACHINE_ARM64 ? 'arm64' : undefined;
  if (!arch) {
    // ARM32 (Thumb-2) drivers import the same DDIs; their calls are not analysed, and say so.
    skipped.push({ reason: 'machine', machine: h.machine === MACHINE_ARMNT ? 'arm' : h.machineName, ddis: ddisOf(slots) });
    return none();
  }

  // Code the file does not hold (a packer's section, filled at run time) cannot be read: say so.
  for (const sec of h.sections) {
    const exec = (sec.characteristics & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE)) !== 0;
    if (exec && sec.sizeOfRawData === 0 && sec.virtualSize > 0) skipped.push({ reason: 'no-file-data', section: sec.name, ddis: ddisOf(slots) });
  }

  const guards = guardPointers(src, h);
  if (guards.check !== undefined) special.set(guards.check, 'check');
  if (guards.dispatch !== undefined) special.set(guards.dispatch, 'dispatch');

  const code = codeSections(src, h);
  const base = Number(h.imageBase);
  const slotSet = new Set(slots.keys());
  const candidates = scanFor(code, slotSet, arch, base);

  const noReturnSlots = new Set([...special].filter(([, k]) => k === 'noreturn').map(([s]) => s));
  const noreturnThunks = new Set<number>();
  if (candidates.size > 0) for (const c of code) for (const t of scanImportThunks(c, noReturnSlots, arch, h.imageBase)) noreturnThunks.add(t);

  const thunks = new Map<number, number>();
  const facts: ImageFacts = { machine: machineOf(arch), slots, special, thunks, noreturnThunks };
  const budget = { left: options.budget ?? INSTRUCTION_BUDGET };
  const limit = options.budget ?? INSTRUCTION_BUDGET;
  const calls = new Map<number, FoundCall>();
  const refs = new Map<number, SlotRef>();
  const decoded = new Map<number, Region>();
  let stopped = false;

  const decoder = options.decoder ?? glueDecoder;
  const frontend: Frontend | undefined =
    candidates.size === 0 ? undefined : arch === 'arm64' ? arm64Frontend : x86Frontend(decoder.load(), arch === 'x64' ? 64 : 32, h.imageBase, h.sizeOfImage);
  const table = functionTable(src, h);

  const merge = (r: RegionResult): void => {
    for (const [t, s] of r.thunks) thunks.set(t, s);
    for (const call of r.calls) calls.set(call.rva, call);
    for (const [rva, ref] of r.refs) {
      const had = refs.get(rva);
      if (!had) refs.set(rva, ref);
      else {
        for (const u of ref.uses) had.uses.add(u);
        if (ref.at !== ref.rva) had.at = ref.at;
      }
    }
  };

  /** Decodes and analyses one region; false when the budget ran out. */
  const run = (c: CodeSection, start: number, end: number): boolean => {
    if (stopped) return false;
    const insns = frontend!.decode(c, start, end, budget);
    const r = budget.left > 0 ? analyseRegion({ insns, facts, targets: byName, entries: pdataStarts(table, start, end) }, budget) : undefined;
    if (!r || !r.complete) {
      stopped = true;
      skipped.push({ reason: 'budget', rva: start, limit });
      return false;
    }
    decoded.set(start, { c, start, end, insns });
    merge(r);
    return true;
  };

  // Function starts found by a light pass over large stretches without .pdata, per stretch.
  const startsOf = new Map<number, number[]>();
  const regionsFor = (rvas: Iterable<number>): Region[] => {
    const regions = new Map<number, Region>();
    for (const rva of rvas) {
      const c = sectionAt(code, rva);
      if (!c) continue;
      const r = narrow(frontend!, startsOf, c, regionFor(table, c, rva, arch !== 'arm64'), rva, budget);
      // Two regions from one start (a gap, and a function whose start is not trusted): the longer.
      const had = regions.get(r.start);
      if (!had || had.end < r.end) regions.set(r.start, { c, ...r, insns: [] });
    }
    return [...regions.values()].sort((a, b) => a.start - b.start);
  };

  try {
    if (frontend) {
      for (const r of regionsFor(candidates)) if (!run(r.c, r.start, r.end)) break;
      if (thunks.size > 0 && !stopped) {
        // Direct calls and jumps to the thunks, and instructions that take their addresses.
        const thunkSet = new Set(thunks.keys());
        const users = new Set<number>();
        for (const c of code) for (const r of scanDirectBranches(c, thunkSet, arch === 'arm64')) users.add(r);
        for (const r of scanFor(code, thunkSet, arch, base)) {
          users.add(r);
          candidates.add(r);
        }
        for (const r of regionsFor(users)) if (!run(r.c, r.start, r.end)) break;
      }
      if (!stopped && arch !== 'arm64') {
        // What a referenced address leads to: a slot itself, or the slot a thunk jumps through.
        const slotOfAddr = new Map<number, number>([...[...slotSet].map((s): [number, number] => [s, s]), ...thunks]);
        rescue(frontend, candidates, decoded, refs, slotOfAddr, run);
      }
    }
  } finally {
    frontend?.dispose();
  }
  if (frontend && arch !== 'arm64') decoder.done();

  for (const call of [...calls.values()].sort((a, b) => a.rva - b.rva)) {
    const c = sectionAt(code, call.rva)!;
    const info = slots.get(call.slot)!;
    const target = byName.get(info.ddi)!;
    sites.push({
      ddi: info.ddi,
      dll: info.dll,
      rva: call.rva,
      offset: c.header.pointerToRawData + (call.rva - c.start),
      length: call.len,
      section: c.header.name,
      kind: call.kind,
      via: call.via,
      arg: call.arg,
      param: target.param,
      ...(target.also && call.also ? { also: { param: target.also, arg: call.also } } : {}),
    });
  }
  for (const ref of [...refs.values()].sort((a, b) => a.rva - b.rva)) {
    references.push({ rva: ref.rva, length: ref.len, ddi: slots.get(ref.slot)!.ddi, uses: [...ref.uses].sort() });
    const use = ref.uses.size === 0 ? 'unused' : [...ref.uses].find((u): u is Exclude<typeof u, 'call'> => u !== 'call');
    if (use === undefined) continue;
    // Where the value left sight, or (in data, say) the reference itself.
    const at = sectionAt(code, ref.at) ? ref.at : ref.rva;
    const c = sectionAt(code, at)!;
    const info = slots.get(ref.slot)!;
    untracked.push({ ddi: info.ddi, dll: info.dll, use, rva: at, offset: c.header.pointerToRawData + (at - c.start), section: c.header.name });
  }
  // Compilers put a DDI's address in data only through its import thunk (clang-cl and MSVC
  // resolve `{ ExAllocatePoolWithTag }` in a static initializer to the thunk, dllimport or
  // not), so without a thunk there is nothing to find, and a 24 MB .data is not read (75 ms).
  if (!stopped && thunks.size > 0) {
    for (const p of pointersInData(src, h, slotSet, thunks, budget)) {
      if (p === 'budget') {
        skipped.push({ reason: 'budget', rva: 0, limit });
        break;
      }
      const info = slots.get(p.slot)!;
      untracked.push({ ddi: info.ddi, dll: info.dll, use: 'in-data', rva: p.rva, offset: p.offset, section: p.section });
    }
  }

  return { sites, untracked, references, skipped };
}

interface Region {
  c: CodeSection;
  start: number;
  end: number;
  insns: Insn[];
}

/** The .pdata function starts in [start, end): each starts a function, whatever precedes it. */
function pdataStarts(table: FunctionTable | undefined, start: number, end: number): Set<number> {
  const out = new Set<number>();
  if (!table) return out;
  // The first entry at or after start; chained fragments continue a function: they are not entries.
  for (let k = lastAtOrBefore(table.starts.length, (i) => table.starts[i]!, start - 1) + 1; k < table.starts.length && table.starts[k]! < end && out.size < 4096; k++) {
    if (table.parent(k) === undefined) out.add(table.starts[k]!);
  }
  return out;
}

function ddisOf(slots: ReadonlyMap<number, SlotInfo>): string[] {
  return [...new Set([...slots.values()].map((s) => s.ddi))].sort();
}

function machineOf(arch: Arch): Machine {
  return arch === 'x64' ? X64 : arch === 'x86' ? X86 : ARM64;
}

/** Code positions that may reference one of `addrs` (RVAs). */
function scanFor(code: readonly CodeSection[], addrs: ReadonlySet<number>, arch: Arch, base: number): Set<number> {
  const out = new Set<number>();
  if (addrs.size === 0) return out;
  const { lo, hi } = slotBounds(addrs);
  const vas = arch === 'x86' ? new Set([...addrs].map((s) => (base + s) >>> 0)) : undefined;
  const pages = arch === 'arm64' ? new Set([...addrs].map((s) => s & ~0xfff)) : undefined;
  for (const c of code) {
    const found = arch === 'x64' ? scanRipRelative(c, addrs, lo, hi) : arch === 'x86' ? scanAbsolute(c, vas!) : scanArm64(c, addrs, pages!);
    for (const r of found) out.add(r);
  }
  return out;
}

/**
 * The function of a large stretch without .pdata that holds `rva`. `cache` keeps each
 * stretch's function starts (found by a light pass) for the rest of the image's analysis.
 */
function narrow(
  frontend: Frontend,
  cache: Map<number, number[]>,
  c: CodeSection,
  r: { start: number; end: number },
  rva: number,
  budget: { left: number },
): { start: number; end: number } {
  if (r.end - r.start <= SWEEP_SPLIT || !frontend.starts) return r;
  let starts = cache.get(r.start);
  if (!starts) {
    starts = frontend.starts(c, r.start, r.end, budget);
    cache.set(r.start, starts);
  }
  // The first start is the stretch's own, at or before rva.
  const k = Math.max(0, lastAtOrBefore(starts.length, (i) => starts[i]!, rva));
  return { start: starts[k]!, end: starts[k + 1] ?? r.end };
}

/**
 * Candidates the decoding did not see as a reference: the decoding went past them (it
 * started inside an instruction: overlapping .pdata, a packed image), or they are bytes
 * inside another instruction. Each is decoded again from an instruction start that
 * references the slot, a few bytes before it; calls found from there count. Bytes that
 * decode to no such instruction are not code that references the slot.
 */
function rescue(
  frontend: Frontend,
  candidates: ReadonlySet<number>,
  decoded: ReadonlyMap<number, Region>,
  refs: Map<number, SlotRef>,
  slotOfAddr: ReadonlyMap<number, number>,
  run: (c: CodeSection, start: number, end: number) => boolean,
): void {
  const regions = [...decoded.values()].sort((a, b) => a.start - b.start);
  for (const cand of [...candidates].sort((a, b) => a - b)) {
    const region = containing(regions, cand);
    if (!region) continue;
    const x = covering(region.insns, cand);
    if (x && refs.has(x.rva)) continue;
    if (x) {
      const seen = frontend.refAt(region.c, x.rva);
      const slot = slotOfAddr.get(seen.ref);
      if (x.rva + seen.len > cand && slot !== undefined) {
        // Decoded in step, but through an instruction the analysis does not follow.
        refs.set(x.rva, { rva: x.rva, len: x.len, slot, uses: new Set(['not-followed']), at: x.rva });
        continue;
      }
    }
    for (let s = cand - 1; s >= Math.max(region.c.start, cand - 4); s--) {
      const seen = frontend.refAt(region.c, s);
      if (s + seen.len >= cand + 4 && slotOfAddr.has(seen.ref)) {
        if (!run(region.c, s, region.end)) return;
        break;
      }
    }
  }
}

function containing(regions: readonly Region[], rva: number): Region | undefined {
  let found: Region | undefined;
  for (const r of regions) {
    if (r.start > rva) break;
    if (rva < r.end) found = r;
  }
  return found;
}

/** The decoded instruction holding byte `rva`. */
function covering(insns: readonly Insn[], rva: number): Insn | undefined {
  const x = insns[lastAtOrBefore(insns.length, (i) => insns[i]!.rva, rva)];
  return x && rva < x.rva + x.len ? x : undefined;
}
