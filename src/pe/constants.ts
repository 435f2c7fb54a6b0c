// PE/COFF constants used by the parser and the rules (values from the PE format
// specification; see ../shared/reference/FACTS.md).

export const IMAGE_SCN_CNT_CODE = 0x00000020;
export const IMAGE_SCN_MEM_DISCARDABLE = 0x02000000;
export const IMAGE_SCN_MEM_EXECUTE = 0x20000000;
export const IMAGE_SCN_MEM_READ = 0x40000000;
export const IMAGE_SCN_MEM_WRITE = 0x80000000;

export const IMAGE_FILE_RELOCS_STRIPPED = 0x0001;

export const IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE = 0x0040;
export const IMAGE_DLLCHARACTERISTICS_NX_COMPAT = 0x0100;

export const PE32_MAGIC = 0x10b;
export const PE32PLUS_MAGIC = 0x20b;

export const DIR_IMPORT = 1;
export const DIR_SECURITY = 4;
export const DIR_BASERELOC = 5;
export const DIR_IAT = 12;

export const MACHINE_I386 = 0x014c;
export const MACHINE_AMD64 = 0x8664;
export const MACHINE_ARM64 = 0xaa64;
export const MACHINE_ARMNT = 0x01c4;

/** The machines hvci-build checks. */
export const MACHINE_NAMES: Readonly<Record<number, string>> = {
  [MACHINE_I386]: 'x86',
  [MACHINE_AMD64]: 'x64',
  [MACHINE_ARM64]: 'arm64',
  [MACHINE_ARMNT]: 'arm',
};

/**
 * Other machines of the PE format specification ("Machine Types"), named in the
 * note that says their images are not checked. Real driver collections hold IA-64 images.
 */
export const OTHER_MACHINE_NAMES: Readonly<Record<number, string>> = {
  0x0: 'unknown',
  0x166: 'MIPS R4000',
  0x169: 'MIPS WCE v2',
  0x184: 'Alpha',
  0x1a2: 'SH3',
  0x1a3: 'SH3 DSP',
  0x1a6: 'SH4',
  0x1a8: 'SH5',
  0x1c0: 'ARM',
  0x1c2: 'Thumb',
  0x1d3: 'AM33',
  0x1f0: 'PowerPC',
  0x1f1: 'PowerPC FP',
  0x200: 'IA-64',
  0x266: 'MIPS16',
  0x284: 'Alpha64',
  0x366: 'MIPS FPU',
  0x466: 'MIPS16 FPU',
  0xebc: 'EFI byte code',
  0x5032: 'RISC-V 32',
  0x5064: 'RISC-V 64',
  0x5128: 'RISC-V 128',
  0x6232: 'LoongArch32',
  0x6264: 'LoongArch64',
  0x9041: 'M32R',
  0xa641: 'ARM64EC',
  0xa64e: 'ARM64X',
};

export const PAGE_SIZE = 0x1000;

// Base relocation types (PE format specification, "Base Relocation Types").
export const REL_ABSOLUTE = 0;
export const REL_HIGH = 1;
export const REL_LOW = 2;
export const REL_HIGHLOW = 3;
export const REL_HIGHADJ = 4;
export const REL_ARM_MOV32 = 5;
export const REL_THUMB_MOV32 = 7;
export const REL_DIR64 = 10;

export const RELOC_TYPE_NAMES: Readonly<Record<number, string>> = {
  [REL_ABSOLUTE]: 'ABSOLUTE',
  [REL_HIGH]: 'HIGH',
  [REL_LOW]: 'LOW',
  [REL_HIGHLOW]: 'HIGHLOW',
  [REL_HIGHADJ]: 'HIGHADJ',
  [REL_ARM_MOV32]: 'ARM_MOV32',
  [REL_THUMB_MOV32]: 'THUMB_MOV32',
  [REL_DIR64]: 'DIR64',
};

/**
 * Bytes a base relocation of this type patches on this machine, or undefined
 * when the loader does not know the type (the image then fails to load).
 * Types 5 and 7 are MOV32 pairs only on ARM; elsewhere they mean other things.
 */
export function relocationWidth(type: number, machine: number): number | undefined {
  switch (type) {
    case REL_ABSOLUTE:
      return 0;
    case REL_HIGH:
    case REL_LOW:
    case REL_HIGHADJ:
      return 2;
    case REL_HIGHLOW:
      return 4;
    case REL_DIR64:
      return 8;
    case REL_ARM_MOV32:
    case REL_THUMB_MOV32:
      return machine === MACHINE_ARMNT ? 8 : undefined;
    default:
      return undefined;
  }
}
