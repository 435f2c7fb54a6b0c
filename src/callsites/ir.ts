/**
 * The small machine-independent form the decoders (iced-x86 for x86/x64, ./arm64.ts for
 * ARM64) turn instructions into: how control flows, and what each instruction does to the
 * registers and stack slots the analysis follows. Anything a decoder does not model
 * precisely it reports as a clobber, so the analysis never guesses a value.
 */

// Control flow of one instruction.
export const FLOW_NEXT = 0;
export const FLOW_JUMP = 1;
export const FLOW_COND_JUMP = 2;
export const FLOW_INDIRECT_JUMP = 3;
export const FLOW_CALL = 4;
export const FLOW_INDIRECT_CALL = 5;
export const FLOW_RETURN = 6;
/** No fall-through and no known target: int3, ud2, brk, an undecodable byte. */
export const FLOW_STOP = 7;

// Abstract values of registers and stack slots.
export const V_UNKNOWN = 0;
export const V_CONST = 1;
/** An address inside the image (an RVA): adrp/adr/lea results. */
export const V_ADDR = 2;
/** The value of an IAT slot, i.e. the address of the imported function (v = slot RVA). */
export const V_SLOT = 3;
/** A pointer into the current stack frame; `a` is its offset from the block's sp base, when known. */
export const V_STACK = 4;

/**
 * Why a value is not known, as a code: the rules turn codes into words (unknown-pool-type's
 * message table), so no wording is built in the analysis.
 */
export type UnknownReason =
  /** Not set on the way from the function's start (or a jump-table target) to the use. */
  | 'not-set'
  /** Different values on different paths to the use. */
  | 'differs-by-path'
  | 'from-memory'
  | 'after-call'
  /** Computed by an instruction the analysis does not model. */
  | 'not-followed'
  /** A stack argument that nothing stored before the call. */
  | 'no-stack-store'
  /** Stored in fewer bytes than it is read with. */
  | 'partial-store';

export interface Val {
  readonly k: number;
  /** CONST: the value. */
  readonly c?: bigint;
  /** ADDR and SLOT: the RVA. STACK: the offset from the frame base, when known. */
  readonly a?: number;
  /** UNKNOWN: why the value is not known, for the finding. */
  readonly why?: UnknownReason;
  /**
   * ADDR and SLOT: RVA of the instruction that loaded the slot or took the address (-2 when
   * several did, on different paths), so that each reference can be followed to its use.
   */
  readonly src?: number;
}

export const unknownVal = (why: UnknownReason): Val => ({ k: V_UNKNOWN, why });
export const NOT_SET = unknownVal('not-set');
export const DIFFERS = unknownVal('differs-by-path');
export const FROM_MEMORY = unknownVal('from-memory');
export const NOT_FOLLOWED = unknownVal('not-followed');
export const AFTER_CALL = unknownVal('after-call');
/** A pointer into the frame at an offset not known. */
export const STACK: Val = { k: V_STACK };
export const constVal = (c: bigint): Val => ({ k: V_CONST, c });
export const addrVal = (a: number, src?: number): Val => (src === undefined ? { k: V_ADDR, a } : { k: V_ADDR, a, src });

export const MASK64 = (1n << 64n) - 1n;
export const MASK32 = 0xffffffffn;

/** No base register: the address is absolute (x86) or RIP-relative (x64), given as an RVA. */
export const BASE_ABS = -1;
/** A memory operand the analysis cannot place (an index register, a segment override). */
export const BASE_OTHER = -2;

export type Effect =
  /** r := v. */
  | { op: 'set'; r: number; v: Val }
  /** r := s, truncated to 32 bits (zero-extended) when `w32`. */
  | { op: 'copy'; r: number; s: number; w32: boolean }
  /** r := s <fn> imm (s may equal r). */
  | { op: 'alu'; r: number; s: number; fn: 'add' | 'sub' | 'or' | 'and' | 'xor'; imm: bigint; w32: boolean }
  /** ARM64 movk: replace 16 bits of r at `shift`. */
  | { op: 'insert16'; r: number; imm: bigint; shift: number; w32: boolean }
  /** r := [base + disp], `size` bytes (zero-extended to 64 bits when `w32`). */
  | { op: 'load'; r: number; base: number; disp: number; size: number; w32?: boolean }
  /** [base + disp] := src register (or `v` when src < 0), `size` bytes. */
  | { op: 'store'; base: number; disp: number; size: number; src: number; v?: Val; indexed?: boolean }
  /** Something not followed is written at [base + disp]: `size` bytes, or up to 64 (the widest store) when not given. */
  | { op: 'memwrite'; base: number; disp: number; indexed?: boolean; size?: number }
  /** sp -= size; [sp] := src (or v). */
  | { op: 'push'; src: number; v?: Val; size: number }
  /** r := [sp]; sp += size. r < 0 discards. */
  | { op: 'pop'; r: number; size: number }
  /** sp += delta. */
  | { op: 'sp'; delta: number }
  /** sp changed in a way the analysis does not follow. */
  | { op: 'spunknown' }
  /** The registers in the bit mask become unknown. */
  | { op: 'clobber'; mask: number };

export interface Insn {
  rva: number;
  len: number;
  flow: number;
  /** Direct branch or call target (an RVA), else -1. */
  target: number;
  /** Indirect branch or call through memory at this RVA ([rip+x], [abs]), else -1. */
  viaSlot: number;
  /** Indirect branch or call through this register, else -1. */
  viaReg: number;
  effects: Effect[];
  /** nop or int3: padding between functions. */
  padding: boolean;
}

/** What the dataflow needs to know about a machine. */
export interface Machine {
  /** Register index of the stack pointer, and of the frame pointer. */
  sp: number;
  fp: number;
  ptrSize: 4 | 8;
  /** Registers a call leaves undefined (bit mask). */
  volatile: number;
  /** Registers holding parameters 0, 1, ... (the rest are on the stack). */
  argRegs: readonly number[];
  /** Byte offset from sp of the stack parameter `slot` at a call, or at a tail jump. */
  stackArg(slot: number, tail: boolean): number;
  /**
   * Bytes above sp that a callee owns (x64's home area), when calls leave sp unchanged; undefined
   * when a call changes sp by an amount the analysis does not know (x86 stdcall pops its arguments).
   */
  calleeArea: number | undefined;
  /** General registers the state follows: 16 on x86 and x64, 32 on ARM64. */
  regCount: 16 | 32;
}

/** Decodes a region of code into Insn records. `budget.left` counts instructions still allowed. */
/** Code to decode: an executable section's bytes and the RVA they start at. */
export interface CodeBytes {
  readonly bytes: Uint8Array;
  readonly start: number;
}

export interface Frontend {
  /** The instructions of [from, to) in `code` (the last may run past `to`). */
  decode(code: CodeBytes, from: number, to: number, budget: { left: number }): Insn[];
  /**
   * The one instruction at `rva`: its length, and the image address (an RVA) it names in a
   * memory operand (RIP-relative or absolute) or, on x86, in a 32-bit immediate; -1 for none.
   * Used to tell a slot reference the decoding went past from a byte pattern inside another
   * instruction.
   */
  refAt(code: CodeBytes, rva: number): { len: number; ref: number };
  /** Frees what the decoder holds outside the JavaScript heap (iced's wasm objects). */
  dispose(): void;
  /**
   * Where functions probably start in a stretch of code without .pdata: the first
   * instruction after padding (int3, or nop after an instruction that does not fall
   * through). A light pass (lengths and flow only), so that a sweep decodes fully only the
   * functions that matter. Undefined when decoding everything is cheap anyway (ARM64).
   */
  starts?(code: CodeBytes, from: number, to: number, budget: { left: number }): number[];
}

export const bit = (r: number): number => (r >= 0 && r < 32 ? 1 << r : 0);
