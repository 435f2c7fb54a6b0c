/**
 * Call-site analysis: finds each call to an imported DDI of interest in the linked code
 * and recovers the argument that decides whether it hands out executable memory.
 *
 * 1. The IAT slots of the DDIs of interest come from the import directory.
 * 2. A byte scan of the executable sections finds the instructions that can reference
 *    those slots (RIP-relative or absolute operands, adrp/adr/ldr on ARM64). Nothing else
 *    is decoded, and iced-x86 is loaded only when the scan found something.
 * 3. Each function holding a reference is decoded from its start (.pdata on x64 and
 *    ARM64; the gap between .pdata functions for leaf functions and thunks; the whole
 *    section on x86) and analysed (./dataflow.ts).
 * 4. Import thunks found on the way (`jmp [slot]`) lead to a second scan, for direct
 *    calls and jumps to them, and to the analysis of the functions that make those.
 */
import { MACHINE_AMD64, MACHINE_ARM64, MACHINE_I386 } from '../pe/constants.js';
import type { PeImage } from '../pe/image.js';
import type { ByteSource } from '../pe/source.js';
import { ARM64, arm64Frontend } from './arm64.js';
import {
  codeSections,
  functionTable,
  regionFor,
  scanAbsolute,
  scanArm64,
  scanDirectBranches,
  scanRipRelative,
  sectionAt,
  slotBounds,
  type CodeSection,
} from './code.js';
import { analyseRegion, type FoundCall, type SlotInfo } from './dataflow.js';
import { loadIced, saveIcedCache } from './iced.js';
import type { Frontend, Machine } from './ir.js';
import { functionNames, readCodeView } from './symbols.js';
import type { CallSite, CallSiteAnalysis, CallTarget } from './types.js';
import { X64, X86, x86Frontend } from './x86.js';

export type { CallSite, CallSiteAnalysis, CallTarget, DecidingParam, RecoveredArg } from './types.js';

/** Instructions decoded per image at most: bounds the time spent on hostile code. */
export const INSTRUCTION_BUDGET = 2_000_000;

/** Stretches without .pdata larger than this are split at probable function starts first. */
const SWEEP_SPLIT = 4096;

export interface AnalyseOptions {
  /** Path of the image, to find a map file or PDB beside it for function names. */
  path?: string;
  budget?: number;
}

export function analyseCallSites(
  src: ByteSource,
  image: PeImage,
  targets: readonly CallTarget[],
  options: AnalyseOptions = {},
): CallSiteAnalysis {
  const h = image.headers;
  const none: CallSiteAnalysis = { sites: [], functionAt: () => undefined, incomplete: undefined };
  const arch = h.machine === MACHINE_AMD64 ? 'x64' : h.machine === MACHINE_I386 ? 'x86' : h.machine === MACHINE_ARM64 ? 'arm64' : undefined;
  if (!arch) return none;

  const byName = new Map(targets.map((t) => [t.ddi, t]));
  const slots = new Map<number, SlotInfo>();
  for (const m of image.imports) {
    for (const f of m.functions) {
      if (f.name !== undefined && byName.has(f.name)) slots.set(f.slotRva, { ddi: f.name, dll: m.dll });
    }
  }
  if (slots.size === 0) return none;

  const code = codeSections(src, h);
  const candidates = new Set<number>();
  const slotSet = new Set(slots.keys());
  for (const c of code) {
    let found: number[];
    if (arch === 'x64') {
      const { lo, hi } = slotBounds(slotSet);
      found = scanRipRelative(c, slotSet, lo, hi);
    } else if (arch === 'x86') {
      const base = Number(h.imageBase);
      found = scanAbsolute(c, new Set([...slotSet].map((s) => (base + s) >>> 0)));
    } else {
      found = scanArm64(c, slotSet, new Set([...slotSet].map((s) => s & ~0xfff)));
    }
    for (const r of found) candidates.add(r);
  }
  if (candidates.size === 0) return none;

  const frontend: Frontend = arch === 'arm64' ? arm64Frontend : x86Frontend(loadIced(), arch === 'x64' ? 64 : 32, h.imageBase);
  const machine: Machine = arch === 'x64' ? X64 : arch === 'x86' ? X86 : ARM64;
  const table = functionTable(src, h);
  const budget = { left: options.budget ?? INSTRUCTION_BUDGET };
  const thunks = new Map<number, number>();
  const calls = new Map<number, FoundCall>();
  let incomplete: string | undefined;

  // Function starts found by a light pass over large stretches without .pdata, per stretch.
  const startsOf = new Map<number, number[]>();
  const narrow = (c: CodeSection, r: { start: number; end: number }, rva: number): { start: number; end: number } => {
    if (r.end - r.start <= SWEEP_SPLIT || !frontend.starts) return r;
    let starts = startsOf.get(r.start);
    if (!starts) {
      starts = frontend.starts(c, r.start, r.end, budget);
      startsOf.set(r.start, starts);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= rva) lo = mid;
      else hi = mid - 1;
    }
    return { start: starts[lo]!, end: starts[lo + 1] ?? r.end };
  };

  const analyse = (rvas: Iterable<number>): void => {
    const regions = new Map<number, { c: CodeSection; start: number; end: number }>();
    for (const rva of rvas) {
      const c = sectionAt(code, rva);
      if (!c) continue;
      const r = narrow(c, regionFor(table, c, rva), rva);
      if (!regions.has(r.start)) regions.set(r.start, { c, ...r });
    }
    for (const { c, start, end } of [...regions.values()].sort((a, b) => a.start - b.start)) {
      if (budget.left <= 0) break;
      const insns = frontend.decode(c, start, end, budget);
      if (budget.left <= 0) {
        incomplete = `call-site analysis stopped after ${INSTRUCTION_BUDGET.toLocaleString('en-US')} instructions (a limit for hostile images); calls from RVA 0x${start.toString(16).toUpperCase()} on were not checked`;
        break;
      }
      const result = analyseRegion({ insns, machine, slots, thunks, targets: byName, entries: new Set() });
      for (const [t, s] of result.thunks) thunks.set(t, s);
      for (const call of result.calls) calls.set(call.rva, call);
    }
  };

  try {
    analyse(candidates);
    if (thunks.size > 0 && !incomplete) {
      const thunkSet = new Set(thunks.keys());
      const callers = new Set<number>();
      for (const c of code) for (const r of scanDirectBranches(c, thunkSet, arch === 'arm64')) callers.add(r);
      if (callers.size > 0) analyse(callers);
    }
  } finally {
    frontend.dispose();
  }
  if (arch !== 'arm64') saveIcedCache();

  const sites: CallSite[] = [];
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
    });
  }
  // The CodeView record is read now, while the image is open; the PDB or map only when a
  // finding asks for a function name.
  const cv = sites.length > 0 && options.path !== undefined ? readCodeView(src, h) : undefined;
  let names: ReturnType<typeof functionNames> | undefined;
  return {
    sites,
    incomplete,
    functionAt(rva) {
      if (options.path === undefined) return undefined;
      names ??= functionNames(options.path, h, cv);
      return names.at(rva);
    },
  };
}
