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

/** A DDI the analysis looks for, and the parameter whose value the rules judge. */
export interface CallTarget {
  ddi: string;
  /** Undefined when no argument matters (MmMapLockedPages always maps executable). */
  param: DecidingParam | undefined;
}

/** A recovered argument: a constant, or why it is not one. */
export type RecoveredArg = { known: true; value: bigint } | { known: false; why: string };

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
}

/** The analysis of one image, attached to the PeImage the rules see. */
export interface CallSiteAnalysis {
  sites: CallSite[];
  /** Name of the function containing `rva`, from a map file or PDB next to the image (loaded on first use). */
  functionAt(rva: number): { name: string; offset: number } | undefined;
  /** Set when part of the code could not be analysed (a hostile image hit the work limit). */
  incomplete: string | undefined;
}
