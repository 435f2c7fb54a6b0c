/** What call-site analysis finds: each call to an imported DDI of interest, with the arguments that matter. */

/** One parameter whose value decides whether a DDI hands out executable memory. */
export interface DecidingParam {
  /** Zero-based parameter index, as in the prototype. */
  index: number;
  /** The parameter's name in Microsoft's documentation. */
  name: string;
  /**
   * 4-byte stack slot of the parameter for x86 stdcall, when it differs from `index`
   * (a 64-bit parameter before it, such as MmMapIoSpaceEx's PHYSICAL_ADDRESS, takes two).
   */
  x86Slot?: number;
  /** A 64-bit parameter (POOL_FLAGS); others are 32-bit and judged on their low 32 bits. */
  wide?: boolean;
}

/** The import reached through an IAT slot. */
export interface SlotInfo {
  ddi: string;
  dll: string;
}

/** A DDI the analysis looks for, and the parameter whose value the rules judge. */
export interface CallTarget {
  ddi: string;
  /** Undefined when no argument matters (MmMapLockedPages always maps executable). */
  param: DecidingParam | undefined;
  /** A second parameter the rule reads to judge the first (ZwCreateSection's AllocationAttributes). */
  also?: DecidingParam;
}

import type { UnknownReason } from './ir.js';

/** Why an argument is not a constant: a code the rules turn into words. */
export type ArgReason = UnknownReason | 'import-address' | 'address';

/** A recovered argument: a constant, or why it is not one. */
export type RecoveredArg = { known: true; value: bigint } | { known: false; reason: ArgReason };

/**
 * What became of a reference to a checked DDI's slot or thunk, other than a call: the ways
 * a reference leaves the analysis' sight.
 */
export type RefUse =
  | 'call'
  /** Stored to memory outside the frame (a global, a structure). */
  | 'stored'
  /** Given to another function as an argument. */
  | 'passed'
  | 'returned'
  /** Loaded, and then lost before any call the analysis recognises. */
  | 'unused'
  /** An instruction the analysis does not model reads the slot (push [slot], an indexed load). */
  | 'not-followed'
  /** A pointer in data (a relocated address in .data or .rdata) holds it. */
  | 'in-data';

/** A reference to a checked DDI whose calls cannot be followed: the rules note each. */
export interface UntrackedRef {
  ddi: string;
  dll: string;
  use: Exclude<RefUse, 'call'>;
  /** Where: the instruction, or the pointer in data. */
  rva: number;
  offset: number;
  section: string;
}

export type CallKind =
  /** `call` through the IAT slot or a register holding it. */
  | 'call'
  /** `jmp`/`br` through the slot or a register holding it, from a function that set up arguments. */
  | 'tail call'
  /** `call`/`bl` to an import thunk (`jmp [slot]`). */
  | 'call via thunk'
  /** `jmp`/`b` to an import thunk. */
  | 'tail call via thunk';

export interface CallSite {
  ddi: string;
  dll: string;
  /** RVA, file offset and length of the call (or jump) instruction. */
  rva: number;
  offset: number;
  length: number;
  section: string;
  kind: CallKind;
  /** How the slot was reached: 'slot' (memory operand), 'register' (loaded into a register first), or 'thunk'. */
  via: 'slot' | 'register' | 'thunk';
  /** The deciding argument, when the DDI has one. */
  arg: RecoveredArg | undefined;
  /** The DDI's deciding parameter, as in `CallTarget`. */
  param: DecidingParam | undefined;
  /** The target's `also` parameter, when it has one. */
  also?: { param: DecidingParam; arg: RecoveredArg };
}

/** The analysis of one image, which the rules read from their context. */
export interface CallSiteAnalysis {
  sites: CallSite[];
  untracked: UntrackedRef[];
  /** Every instruction that referenced a checked DDI's slot or thunk, and what became of it. */
  references: { rva: number; length: number; ddi: string; uses: RefUse[] }[];
  /** Parts of the code not analysed, and why: the engine reports each as skipped-check. */
  skipped: SkippedPart[];
}

export type SkippedPart =
  /** The work budget ran out at the region starting at `rva`: it and the rest were not analysed. */
  | { reason: 'budget'; rva: number; limit: number }
  /** The image's machine has no call-site analysis (ARM32 Thumb-2) but imports checked DDIs. */
  | { reason: 'machine'; machine: string; ddis: string[] }
  /** An executable section with no data in the file: its code is made at run time (a packer). */
  | { reason: 'no-file-data'; section: string; ddis: string[] };
