/**
 * A direct binding to iced-x86's WebAssembly module, for the part of the API in
 * ./iced-api.ts. Why: the package's wasm-bindgen glue is 924 KB of JavaScript to read and
 * compile, and its instance exports 762 functions, each of which V8 wraps at instantiation
 * (7 ms). Together they cost more than the whole check of a 25 MB driver. This binding
 * instantiates a copy of the same module whose export section lists only the functions
 * below (under 1 ms) and calls them the way the glue does.
 *
 * The names and conversions follow the glue of the versions in DIRECT_VERSIONS; a test
 * reads them back from that glue's source, and any other version uses the glue itself.
 */
import type {
  IcedApi,
  IcedDecoder,
  IcedEnums,
  IcedInfoFactory,
  IcedInstruction,
  IcedInstructionInfo,
  IcedUsedMemory,
  IcedUsedRegister,
} from './iced-api.js';
import { instantiateWasm, type WasmMemory, type WasmModule } from './wasm-runtime.js';

export const DIRECT_VERSIONS: readonly string[] = ['1.21.0'];

/** How the glue converts a getter's result: as is, `>>> 0`, `!== 0`, `BigInt.asUintN(64, …)`. */
export type Conversion = 'raw' | 'u32' | 'bool' | 'u64';

/** The getters bound, per class: [member, export, conversion], as the glue has them. */
export const GETTERS = {
  Instruction: [
    ['length', 'instruction_length', 'u32'],
    ['mnemonic', 'instruction_mnemonic', 'raw'],
    ['flowControl', 'instruction_flowControl', 'raw'],
    ['op0Kind', 'instruction_op0Kind', 'raw'],
    ['op1Kind', 'instruction_op1Kind', 'raw'],
    ['op0Register', 'instruction_op0Register', 'raw'],
    ['op1Register', 'instruction_op1Register', 'raw'],
    ['opCount', 'instruction_opCount', 'u32'],
    ['isInvalid', 'instruction_isInvalid', 'bool'],
    ['isIpRelMemoryOperand', 'instruction_isIpRelMemoryOperand', 'bool'],
    ['ipRelMemoryAddress', 'instruction_ipRelMemoryAddress', 'u64'],
    ['nearBranchTarget', 'instruction_nearBranchTarget', 'u64'],
    ['memorySegment', 'instruction_memorySegment', 'raw'],
    ['memoryBase', 'instruction_memoryBase', 'raw'],
    ['memoryIndex', 'instruction_memoryIndex', 'raw'],
    ['memoryDisplacement', 'instruction_memoryDisplacement', 'raw'],
    ['stackPointerIncrement', 'instruction_stackPointerIncrement', 'raw'],
  ],
  UsedRegister: [
    ['register', 'usedregister_register', 'raw'],
    ['access', 'usedregister_access', 'raw'],
  ],
  UsedMemory: [
    ['base', 'usedmemory_base', 'raw'],
    ['index', 'usedmemory_index', 'raw'],
    // wasm-bindgen merged identical functions: the glue reads this one through instruction_nextIP.
    ['displacement', 'instruction_nextIP', 'u64'],
    ['memorySize', 'usedmemory_memorySize', 'raw'],
    ['access', 'usedmemory_access', 'raw'],
  ],
  Decoder: [['canDecode', 'decoder_canDecode', 'bool']],
} as const satisfies Record<string, readonly (readonly [string, string, Conversion])[]>;

/** Every other export called, with the glue's member that calls it. */
export const CALLS = {
  'Decoder.constructor': 'decoder_new',
  'Decoder.ip': 'decoder_set_ip',
  'Decoder.position': 'decoder_set_position',
  'Decoder.decodeOut': 'decoder_decodeOut',
  'Decoder.free': '__wbg_decoder_free',
  'Instruction.constructor': 'instruction_new',
  'Instruction.immediate': 'instruction_immediate',
  'Instruction.free': '__wbg_instruction_free',
  'InstructionInfoFactory.constructor': 'instructioninfofactory_new',
  'InstructionInfoFactory.info': 'instructioninfofactory_info',
  'InstructionInfoFactory.free': '__wbg_instructioninfofactory_free',
  'InstructionInfo.usedRegisters': 'instructioninfo_usedRegisters',
  'InstructionInfo.usedMemory': 'instructioninfo_usedMemory',
  'InstructionInfo.free': '__wbg_instructioninfo_free',
  'UsedRegister.free': '__wbg_usedregister_free',
  'UsedMemory.free': '__wbg_usedmemory_free',
  'MemorySizeExt.size': 'memorysizeext_size',
} as const;

const RUNTIME = ['memory', '__wbindgen_add_to_stack_pointer', '__wbindgen_malloc'] as const;

/** The exports the trimmed module keeps. */
export const DIRECT_EXPORTS: readonly string[] = [
  ...new Set<string>([...RUNTIME, ...Object.values(CALLS), ...Object.values(GETTERS).flatMap((rows) => rows.map((r) => r[1]))]),
];

/** The module's imports (module `__wbindgen_placeholder__`), by what the glue's function does. */
export const DIRECT_IMPORTS = {
  __wbindgen_object_drop_ref: 'drop',
  __wbg_new_3a66822ed076951c: 'error',
  __wbg_new_34c624469fb1d4fd: 'array',
  __wbg_push_906164999551d793: 'push',
  __wbg_usedregister_new: 'usedRegister',
  __wbg_usedmemory_new: 'usedMemory',
  __wbg_instruction_new: 'instruction',
  __wbindgen_throw: 'throw',
} as const;

type Fn = (...args: (number | bigint)[]) => number & bigint;
type Exports = Record<string, Fn> & { memory: WasmMemory };

export interface DirectIced {
  api: IcedApi;
  memory: WasmMemory;
}

/** Instantiates `module` (iced's wasm, trimmed to DIRECT_EXPORTS) and binds it. */
export function instantiateDirect(module: WasmModule, enums: IcedEnums): DirectIced {
  // wasm-bindgen's table of JavaScript objects handed to Rust: 128 free slots, then the
  // four constants, then a free list threaded through the unused slots.
  const heap: unknown[] = new Array(128).fill(undefined);
  heap.push(undefined, null, true, false);
  let next = heap.length;
  const add = (o: unknown): number => {
    if (next === heap.length) heap.push(heap.length + 1);
    const i = next;
    next = heap[i] as number;
    heap[i] = o;
    return i;
  };
  const take = (i: number): unknown => {
    const o = heap[i];
    if (i >= 132) {
      heap[i] = next;
      next = i;
    }
    return o;
  };

  let w: Exports;
  let u8 = new Uint8Array(0);
  let i32 = new Int32Array(0);
  let i64 = new BigInt64Array(0);
  // Views go stale (length 0) when the memory grows.
  const bytes = (): Uint8Array => (u8.byteLength === 0 ? (u8 = new Uint8Array(w.memory.buffer)) : u8);
  const words = (): Int32Array => (i32.byteLength === 0 ? (i32 = new Int32Array(w.memory.buffer)) : i32);
  const quads = (): BigInt64Array => (i64.byteLength === 0 ? (i64 = new BigInt64Array(w.memory.buffer)) : i64);
  const text = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
  const str = (ptr: number, len: number): string => text.decode(bytes().subarray(ptr >>> 0, (ptr >>> 0) + len));

  /** An object that owns a Rust value at `p`; free() releases it once. */
  class Owned {
    p: number;
    constructor(p: number) {
      this.p = p >>> 0;
    }
    release(free: string): void {
      const p = this.p;
      this.p = 0;
      w[free]!(p);
    }
  }

  class Instruction extends Owned implements Partial<IcedInstruction> {
    constructor(p?: number) {
      super(p ?? w.instruction_new!());
    }
    immediate(operand: number): bigint {
      const r = w.__wbindgen_add_to_stack_pointer!(-16);
      try {
        w.instruction_immediate!(r, this.p, operand);
        if (words()[r / 4 + 3]) throw take(words()[r / 4 + 2]!);
        return BigInt.asUintN(64, quads()[r / 8]!);
      } finally {
        w.__wbindgen_add_to_stack_pointer!(16);
      }
    }
    free(): void {
      this.release('__wbg_instruction_free');
    }
  }

  class Decoder extends Owned implements Partial<IcedDecoder> {
    constructor(bitness: number, data: Uint8Array, options: number) {
      const r = w.__wbindgen_add_to_stack_pointer!(-16);
      let p: number;
      try {
        // Rust takes ownership of the copy.
        const ptr = w.__wbindgen_malloc!(data.length, 1) >>> 0;
        bytes().set(data, ptr);
        w.decoder_new!(r, bitness, ptr, data.length, options);
        const m = words();
        if (m[r / 4 + 2]) throw take(m[r / 4 + 1]!);
        p = m[r / 4]!;
      } finally {
        w.__wbindgen_add_to_stack_pointer!(16);
      }
      super(p);
    }
    set ip(value: bigint) {
      w.decoder_set_ip!(this.p, value);
    }
    set position(value: number) {
      const r = w.__wbindgen_add_to_stack_pointer!(-16);
      try {
        w.decoder_set_position!(r, this.p, value);
        if (words()[r / 4 + 1]) throw take(words()[r / 4]!);
      } finally {
        w.__wbindgen_add_to_stack_pointer!(16);
      }
    }
    decodeOut(instruction: IcedInstruction): void {
      w.decoder_decodeOut!(this.p, (instruction as unknown as Instruction).p);
    }
    free(): void {
      this.release('__wbg_decoder_free');
    }
  }

  class UsedRegister extends Owned implements Partial<IcedUsedRegister> {
    free(): void {
      this.release('__wbg_usedregister_free');
    }
  }

  class UsedMemory extends Owned implements Partial<IcedUsedMemory> {
    free(): void {
      this.release('__wbg_usedmemory_free');
    }
  }

  class InstructionInfo extends Owned implements IcedInstructionInfo {
    usedRegisters(): IcedUsedRegister[] {
      return take(w.instructioninfo_usedRegisters!(this.p)) as IcedUsedRegister[];
    }
    usedMemory(): IcedUsedMemory[] {
      return take(w.instructioninfo_usedMemory!(this.p)) as IcedUsedMemory[];
    }
    free(): void {
      this.release('__wbg_instructioninfo_free');
    }
  }

  class InstructionInfoFactory extends Owned implements IcedInfoFactory {
    constructor() {
      super(w.instructioninfofactory_new!());
    }
    info(instruction: IcedInstruction): IcedInstructionInfo {
      return new InstructionInfo(w.instructioninfofactory_info!(this.p, (instruction as unknown as Instruction).p));
    }
    free(): void {
      this.release('__wbg_instructioninfofactory_free');
    }
  }

  const imports: Record<keyof typeof DIRECT_IMPORTS, (...a: number[]) => unknown> = {
    __wbindgen_object_drop_ref: (i) => void take(i!),
    __wbg_new_3a66822ed076951c: (ptr, len) => add(new Error(str(ptr!, len!))),
    __wbg_new_34c624469fb1d4fd: () => add([]),
    __wbg_push_906164999551d793: (a, b) => (heap[a!] as unknown[]).push(heap[b!]),
    __wbg_usedregister_new: (p) => add(new UsedRegister(p!)),
    __wbg_usedmemory_new: (p) => add(new UsedMemory(p!)),
    __wbg_instruction_new: (p) => add(new Instruction(p!)),
    __wbindgen_throw: (ptr, len) => {
      throw new Error(str(ptr!, len!));
    },
  };
  w = instantiateWasm(module, { __wbindgen_placeholder__: imports }) as Exports;

  const classes = { Instruction, UsedRegister, UsedMemory, Decoder } as const;
  for (const [name, rows] of Object.entries(GETTERS) as [keyof typeof GETTERS, readonly (readonly [string, string, Conversion])[]][]) {
    for (const [member, exported, conversion] of rows) {
      const fn = w[exported]!;
      const get =
        conversion === 'u32'
          ? function (this: Owned) {
              return fn(this.p) >>> 0;
            }
          : conversion === 'bool'
            ? function (this: Owned) {
                return fn(this.p) !== 0;
              }
            : conversion === 'u64'
              ? function (this: Owned) {
                  return BigInt.asUintN(64, fn(this.p));
                }
              : function (this: Owned) {
                  return fn(this.p);
                };
      Object.defineProperty(classes[name].prototype, member, { get, configurable: true });
    }
  }

  const size = w.memorysizeext_size!;
  const api: IcedApi = {
    ...enums,
    Decoder: Decoder as unknown as IcedApi['Decoder'],
    Instruction: Instruction as unknown as IcedApi['Instruction'],
    InstructionInfoFactory,
    MemorySizeExt: { size: (v: number) => size(v) >>> 0 },
  };
  return { api, memory: w.memory };
}
