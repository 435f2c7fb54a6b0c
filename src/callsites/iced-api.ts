/**
 * The part of iced-x86's API that the call-site analysis uses. Both iced-x86's own
 * wasm-bindgen glue and the direct binding of ./iced-direct.ts provide it.
 */
import type * as Iced from 'iced-x86';

export interface IcedInstruction {
  readonly length: number;
  readonly mnemonic: number;
  readonly flowControl: number;
  readonly op0Kind: number;
  readonly op1Kind: number;
  readonly op0Register: number;
  readonly op1Register: number;
  readonly opCount: number;
  readonly isInvalid: boolean;
  readonly isIpRelMemoryOperand: boolean;
  readonly ipRelMemoryAddress: bigint;
  readonly nearBranchTarget: bigint;
  readonly memorySegment: number;
  readonly memoryBase: number;
  readonly memoryIndex: number;
  readonly memoryDisplacement: bigint;
  readonly stackPointerIncrement: number;
  immediate(operand: number): bigint;
  free(): void;
}

export interface IcedDecoder {
  ip: bigint;
  /** Offset in the bytes of the next instruction; throws when out of range. */
  position: number;
  readonly canDecode: boolean;
  decodeOut(instruction: IcedInstruction): void;
  free(): void;
}

export interface IcedUsedRegister {
  readonly register: number;
  readonly access: number;
  free(): void;
}

export interface IcedUsedMemory {
  readonly base: number;
  readonly index: number;
  readonly displacement: bigint;
  readonly memorySize: number;
  readonly access: number;
  free(): void;
}

export interface IcedInstructionInfo {
  usedRegisters(): IcedUsedRegister[];
  usedMemory(): IcedUsedMemory[];
  free(): void;
}

export interface IcedInfoFactory {
  info(instruction: IcedInstruction): IcedInstructionInfo;
  free(): void;
}

const CONDITIONS = ['a', 'ae', 'b', 'be', 'e', 'g', 'ge', 'l', 'le', 'ne', 'no', 'np', 'ns', 'o', 'p', 's'] as const;
type Cond = (typeof CONDITIONS)[number];

/** Conditional moves and sets: they write operand 0 and nothing else the analysis follows. */
export const CMOV_SET = CONDITIONS.flatMap((cc) => [`Cmov${cc}`, `Set${cc}`] as const) as readonly (`Cmov${Cond}` | `Set${Cond}`)[];

/**
 * The enum members used, by enum. Only these are kept in the snapshot (parsing all 1,894
 * mnemonics costs most of a millisecond), and the types below make using another one a
 * compile error.
 */
export const ENUM_MEMBERS = {
  Mnemonic: [
    'INVALID', 'Mov', 'Lea', 'Push', 'Pop', 'Leave', 'Add', 'Sub', 'Or', 'And', 'Xor', 'Imul', 'Call', 'Nop', 'Int3', 'Loop', 'Loope',
    'Loopne', 'Cmp', 'Test', 'Bt', 'Pause', 'Lfence', 'Mfence', 'Sfence', 'Prefetchnta', 'Prefetcht0', 'Prefetcht1',
    'Prefetcht2', 'Prefetchw', 'Clc', 'Stc', 'Cmc', 'Cld', 'Std', 'Endbr64', 'Endbr32', 'Shl', 'Shr', 'Sar', 'Rol', 'Ror',
    'Inc', 'Dec', 'Neg', 'Not', 'Movzx', 'Movsx', 'Movsxd', 'Bswap', 'Lzcnt', 'Tzcnt', 'Popcnt', 'Bsf', 'Bsr', 'Adc', 'Sbb',
    'Andn', 'Shld', 'Shrd', 'Btc', 'Btr', 'Bts', 'Vzeroupper', 'Vmovups', ...CMOV_SET,
  ],
  OpKind: ['Register', 'Memory', 'Immediate8', 'Immediate16', 'Immediate32', 'Immediate32to64', 'NearBranch32', 'NearBranch64'],
  FlowControl: ['Next', 'UnconditionalBranch', 'IndirectBranch', 'ConditionalBranch', 'Return', 'Call', 'IndirectCall', 'Interrupt', 'Exception'],
  Register: ['None', 'RAX', 'ZMM0', 'FS', 'GS'],
  OpAccess: ['Write'],
  DecoderOptions: ['None'],
} as const;

type Used<E extends keyof typeof ENUM_MEMBERS> = (typeof ENUM_MEMBERS)[E][number];
export interface IcedEnums {
  readonly Mnemonic: Readonly<Pick<typeof Iced.Mnemonic, Used<'Mnemonic'>>>;
  readonly OpKind: Readonly<Pick<typeof Iced.OpKind, Used<'OpKind'>>>;
  readonly FlowControl: Readonly<Pick<typeof Iced.FlowControl, Used<'FlowControl'>>>;
  readonly Register: Readonly<Pick<typeof Iced.Register, Used<'Register'>>>;
  readonly OpAccess: Readonly<Pick<typeof Iced.OpAccess, Used<'OpAccess'>>>;
  readonly DecoderOptions: Readonly<Pick<typeof Iced.DecoderOptions, Used<'DecoderOptions'>>>;
}

export interface IcedApi extends IcedEnums {
  Decoder: new (bitness: number, data: Uint8Array, options: number) => IcedDecoder;
  Instruction: new () => IcedInstruction;
  InstructionInfoFactory: new () => IcedInfoFactory;
  MemorySizeExt: { size(memorySize: number): number };
}

/** The values of ENUM_MEMBERS, taken from iced's own glue (whose enums hold all members). */
export function enumsOf(glue: object): IcedEnums {
  const all = glue as Record<string, Record<string, number>>;
  return Object.fromEntries(
    Object.entries(ENUM_MEMBERS).map(([e, names]) => [e, Object.fromEntries(names.map((n) => [n, all[e]![n]]))]),
  ) as unknown as IcedEnums;
}
