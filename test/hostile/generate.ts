/**
 * Hostile inputs, built byte by byte: small PE32+ images whose directories are
 * consistent enough to pass the header checks but ask for unbounded work
 * (shared import lookup tables, millions of straddling relocations), hostile
 * MSF (PDB) files, and section names with terminal escape codes.
 */

const FILE_ALIGN = 0x200;
const SECTION_ALIGN = 0x1000;
const HEADERS_SIZE = 0x400;

export const SCN_CODE = 0x60000020; // CNT_CODE | MEM_EXECUTE | MEM_READ
export const SCN_RDATA = 0x40000040; // INITIALIZED_DATA | MEM_READ
export const SCN_DATA = 0xc0000040; // INITIALIZED_DATA | MEM_READ | MEM_WRITE
export const SCN_RELOC = 0x42000040; // INITIALIZED_DATA | MEM_DISCARDABLE | MEM_READ

export interface SectionSpec {
  /** Up to 8 bytes, written as latin1 (so any byte value can be tested). */
  name: string;
  characteristics: number;
  /** The section's bytes, given its RVA (so tables inside can point at themselves). */
  data: (rva: number) => Buffer;
}

export interface PeSpec {
  sections: SectionSpec[];
  /** Data directory index to [RVA, size]; RVAs usually come from `sectionRvas`. */
  directories?: Record<number, [number, number]>;
  entryRva?: number;
  characteristics?: number;
  dllCharacteristics?: number;
  /** A PE32 x86 image (image base 0x10000) instead of PE32+ x64. */
  pe32?: boolean;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The RVA each section gets, given the byte sizes of the sections before it. */
export function sectionRva(sizesBefore: readonly number[]): number {
  let rva = SECTION_ALIGN;
  for (const s of sizesBefore) rva += alignUp(Math.max(s, 1), SECTION_ALIGN);
  return rva;
}

/** A PE32+ x64 driver image: DOS header, PE header, 16 data directories, sections. */
export function buildPe(spec: PeSpec): Buffer {
  const datas: Buffer[] = [];
  const rvas: number[] = [];
  for (const s of spec.sections) {
    const rva = sectionRva(datas.map((d) => d.length));
    rvas.push(rva);
    datas.push(s.data(rva));
  }
  const sizeOfImage = sectionRva(datas.map((d) => d.length));
  const rawSizes = datas.map((d) => alignUp(d.length, FILE_ALIGN));
  const total = HEADERS_SIZE + rawSizes.reduce((a, b) => a + b, 0);
  const b = Buffer.alloc(total);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x40, 0x3c);
  const pe = 0x40;
  b.write('PE\0\0', pe, 'latin1');
  const pe32 = spec.pe32 === true;
  // PE32's optional header has 4-byte ImageBase and stack/heap fields: directories start 16 bytes earlier.
  const dirs = pe32 ? 96 : 112;
  b.writeUInt16LE(pe32 ? 0x14c : 0x8664, pe + 4);
  b.writeUInt16LE(spec.sections.length, pe + 6);
  b.writeUInt16LE(dirs + 128, pe + 20); // SizeOfOptionalHeader: fixed part + 16 directories
  b.writeUInt16LE(spec.characteristics ?? (pe32 ? 0x102 : 0x22), pe + 22); // EXECUTABLE_IMAGE | (32BIT_MACHINE or LARGE_ADDRESS_AWARE)
  const opt = pe + 24;
  b.writeUInt16LE(pe32 ? 0x10b : 0x20b, opt);
  b.writeUInt32LE(spec.entryRva ?? rvas[0]!, opt + 16);
  if (pe32) b.writeUInt32LE(0x10000, opt + 28);
  else b.writeBigUInt64LE(0x140000000n, opt + 24);
  b.writeUInt32LE(SECTION_ALIGN, opt + 32);
  b.writeUInt32LE(FILE_ALIGN, opt + 36);
  b.writeUInt16LE(10, opt + 40); // OS version
  b.writeUInt16LE(10, opt + 48); // subsystem version
  b.writeUInt32LE(sizeOfImage, opt + 56);
  b.writeUInt32LE(HEADERS_SIZE, opt + 60);
  b.writeUInt16LE(1, opt + 68); // NATIVE
  b.writeUInt16LE(spec.dllCharacteristics ?? (pe32 ? 0x0140 : 0x0160), opt + 70); // DYNAMIC_BASE | NX_COMPAT (| HIGH_ENTROPY_VA)
  b.writeUInt32LE(16, opt + dirs - 4);
  for (const [index, [rva, size]] of Object.entries(spec.directories ?? {})) {
    b.writeUInt32LE(rva, opt + dirs + Number(index) * 8);
    b.writeUInt32LE(size, opt + dirs + Number(index) * 8 + 4);
  }
  let table = opt + dirs + 128;
  let raw = HEADERS_SIZE;
  spec.sections.forEach((s, i) => {
    b.write(s.name.slice(0, 8), table, 'latin1');
    b.writeUInt32LE(datas[i]!.length, table + 8);
    b.writeUInt32LE(rvas[i]!, table + 12);
    b.writeUInt32LE(rawSizes[i]!, table + 16);
    b.writeUInt32LE(raw, table + 20);
    b.writeUInt32LE(s.characteristics >>> 0, table + 36);
    datas[i]!.copy(b, raw);
    raw += rawSizes[i]!;
    table += 40;
  });
  return b;
}

const code = (): SectionSpec => ({ name: '.text', characteristics: SCN_CODE, data: () => Buffer.from([0x31, 0xc0, 0xc3]) });

/**
 * `descriptors` import descriptors that all share one lookup table (used as
 * their IAT too) of `thunks` entries, all naming the same function: the file
 * grows with descriptors + thunks, the imports the loader would bind with
 * their product.
 */
export function sharedImportTable(descriptors: number, thunks: number, functionName = 'ExAllocatePoolWithTag'): Buffer {
  return buildPe({
    sections: [
      code(),
      {
        name: '.rdata',
        characteristics: SCN_RDATA,
        data: (rva) => {
          // Layout: descriptors (+ terminator), lookup table (+ terminator), DLL name, hint/name.
          const descBytes = (descriptors + 1) * 20;
          const tableAt = alignUp(descBytes, 8);
          const dllAt = tableAt + (thunks + 1) * 8;
          const nameAt = dllAt + 16;
          const d = Buffer.alloc(nameAt + 2 + functionName.length + 1);
          for (let i = 0; i < descriptors; i++) {
            d.writeUInt32LE(rva + tableAt, i * 20); // OriginalFirstThunk
            d.writeUInt32LE(rva + dllAt, i * 20 + 12); // Name
            d.writeUInt32LE(rva + tableAt, i * 20 + 16); // FirstThunk: the same table
          }
          for (let k = 0; k < thunks; k++) d.writeUInt32LE(rva + nameAt, tableAt + k * 8);
          d.write('ntoskrnl.exe', dllAt, 'latin1');
          d.write(functionName, nameAt + 2, 'latin1');
          return d;
        },
      },
    ],
    directories: { 1: [sectionRva([3]), (descriptors + 1) * 20] },
  });
}

/**
 * `count` DIR64 relocations at page offset 0xFF9, each patching 8 bytes across
 * the page boundary, in one block: 2 bytes of file per finding.
 */
export function straddlingRelocations(count: number): Buffer {
  const dataRva = sectionRva([3]);
  const relocData = (): Buffer => {
    const d = Buffer.alloc(8 + count * 2 + (count % 2) * 2);
    d.writeUInt32LE(dataRva, 0);
    d.writeUInt32LE(d.length, 4);
    for (let i = 0; i < count; i++) d.writeUInt16LE((10 << 12) | 0xff9, 8 + i * 2);
    return d;
  };
  const relocSize = relocData().length;
  return buildPe({
    sections: [
      code(),
      { name: '.data', characteristics: SCN_DATA, data: () => Buffer.alloc(0x1010) },
      { name: '.reloc', characteristics: SCN_RELOC, data: relocData },
    ],
    directories: { 5: [sectionRva([3, 0x1010]), relocSize] },
  });
}

/** A clean image whose sections carry the given (possibly hostile) names. */
export function namedSections(names: readonly string[]): Buffer {
  return buildPe({
    sections: [
      code(),
      ...names.map((name): SectionSpec => ({ name, characteristics: SCN_DATA | 0x20000000, data: () => Buffer.alloc(16) })),
    ],
  });
}

const MSF_MAGIC = 'Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0';

export interface MsfSpec {
  blockSize?: number;
  /** NumBlocks in the superblock (default: the file's real block count). */
  numBlocks?: number;
  /** NumDirectoryBytes in the superblock. */
  directoryBytes: number;
  /** Block holding the directory's block map. */
  blockMapBlock?: number;
  /** Whole blocks of the file after the superblock; the map and directory go in here. */
  blocks: Buffer[];
}

/** An MSF 7.00 (PDB) file from its superblock fields and raw blocks, for hostile directories. */
export function buildMsf(spec: MsfSpec): Buffer {
  const bs = spec.blockSize ?? 4096;
  const out = Buffer.alloc(bs * (1 + spec.blocks.length));
  out.write(MSF_MAGIC, 0, 'latin1');
  out.writeUInt32LE(bs, 32);
  out.writeUInt32LE(1, 36); // free block map
  out.writeUInt32LE(spec.numBlocks ?? 1 + spec.blocks.length, 40);
  out.writeUInt32LE(spec.directoryBytes, 44);
  out.writeUInt32LE(spec.blockMapBlock ?? 1, 52);
  spec.blocks.forEach((blk, i) => blk.copy(out, bs * (i + 1), 0, Math.min(blk.length, bs)));
  return out;
}

/** Little-endian 32-bit words as one buffer. */
export function words(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

/** PDBs that ask for much more memory or work than their size. */
export function hostilePdbs(): Record<string, Buffer> {
  return {
    // The stream directory claims 4 GiB, its block list (4 MiB of zeros) naming block 0 over and over.
    'directory-4gib': buildMsf({ directoryBytes: 0xfffff000, blocks: Array.from({ length: 1025 }, () => Buffer.alloc(4096)) }),
    // A directory block index far past the file.
    'block-past-end': buildMsf({ directoryBytes: 64, blocks: [words(0x7fffffff)] }),
    // A directory of 3 streams each claiming 2 GiB, made of block 2 over and over.
    'stream-2gib': buildMsf({
      directoryBytes: 4096,
      blocks: [words(2), words(3, 0x7fffffff, 0x7fffffff, 0x7fffffff, ...new Array(1000).fill(2))],
    }),
    // Every stream names the same blocks: sharing would multiply the file's size.
    'shared-blocks': buildMsf({
      directoryBytes: 4096,
      blocks: [words(2), words(4, 3 * 4096, 3 * 4096, 3 * 4096, 3 * 4096, ...new Array(12).fill(3)), Buffer.alloc(4096)],
    }),
    // A stream whose block list runs round a cycle of two blocks.
    'cyclic-blocks': buildMsf({
      directoryBytes: 4096,
      blocks: [words(2), words(1, 4 * 4096, 3, 4, 3, 4), Buffer.alloc(4096), Buffer.alloc(4096)],
    }),
    // Block size the format does not allow.
    'block-size-7': buildMsf({ blockSize: 4096, directoryBytes: 16, blocks: [] }).fill(7, 32, 33),
  };
}

/**
 * An x64 image whose code, made by `body(slotDisp)`, references the IAT slot of
 * ExAllocatePoolWithTag (`slotDisp(at)` is the RIP-relative displacement for an operand
 * whose instruction ends at code offset `at`): hostile shapes for the call-site data flow.
 */
export function hostileCallsiteCode(body: (slotDisp: (end: number) => number) => Buffer, codeSize: number): Buffer {
  const textRva = sectionRva([]);
  const rdataRva = sectionRva([codeSize]);
  // .rdata: descriptor (+ terminator), lookup table / IAT (one name + terminator), DLL name, hint/name.
  const tableAt = 40;
  const slotRva = rdataRva + tableAt;
  const code = body((end) => slotRva - (textRva + end));
  if (code.length !== codeSize) throw new Error(`code is ${code.length} bytes, not ${codeSize}`);
  return buildPe({
    sections: [
      { name: '.text', characteristics: SCN_CODE, data: () => code },
      {
        name: '.rdata',
        characteristics: SCN_RDATA,
        data: (rva) => {
          const d = Buffer.alloc(128);
          d.writeUInt32LE(rva + tableAt, 0); // OriginalFirstThunk
          d.writeUInt32LE(rva + 64, 12); // Name
          d.writeUInt32LE(rva + tableAt, 16); // FirstThunk
          d.writeBigUInt64LE(BigInt(rva + 80), tableAt);
          d.write('ntoskrnl.exe', 64, 'latin1');
          d.write('ExAllocatePoolWithTag', 82, 'latin1');
          return d;
        },
      },
    ],
    directories: { 1: [rdataRva, 40], 12: [slotRva, 16] },
  });
}

/** `call [rip+slot]` followed by `n` `jmp rax`: each block without predecessors might follow any of them. */
export function indirectJumps(n: number): Buffer {
  return hostileCallsiteCode((disp) => {
    const b = Buffer.alloc(6 + 2 * n);
    b.writeUInt16LE(0x15ff, 0);
    b.writeInt32LE(disp(6), 2);
    for (let i = 0; i < n; i++) b.writeUInt16LE(0xe0ff, 6 + 2 * i);
    return b;
  }, 6 + 2 * n);
}

/** `mov rax, [rip+slot]`, `n` `push rax` in one block, then `call rax`. */
export function manyPushes(n: number): Buffer {
  return hostileCallsiteCode((disp) => {
    const b = Buffer.alloc(7 + n + 2);
    b.writeUInt8(0x48, 0);
    b.writeUInt16LE(0x058b, 1);
    b.writeInt32LE(disp(7), 3);
    b.fill(0x50, 7, 7 + n);
    b.writeUInt16LE(0xd0ff, 7 + n);
    return b;
  }, 7 + n + 2);
}

/**
 * An x86 image with `slots` IAT entries, all naming ExAllocatePoolWithTag, and `codeBytes`
 * of code that references none of them: the byte scan for their absolute addresses once
 * cost slots x code bytes (40,000 slots and 1 MB of code: 4.2 s).
 */
export function manySlotsX86(slots: number, codeBytes: number): Buffer {
  const rdataRva = sectionRva([codeBytes]);
  const tableAt = 40;
  const dllAt = tableAt + (slots + 1) * 4;
  const nameAt = dllAt + 16;
  return buildPe({
    pe32: true,
    sections: [
      { name: '.text', characteristics: SCN_CODE, data: () => Buffer.alloc(codeBytes, 0x90) },
      {
        name: '.rdata',
        characteristics: SCN_RDATA,
        data: (rva) => {
          const d = Buffer.alloc(nameAt + 2 + 22);
          d.writeUInt32LE(rva + tableAt, 0); // OriginalFirstThunk
          d.writeUInt32LE(rva + dllAt, 12); // Name
          d.writeUInt32LE(rva + tableAt, 16); // FirstThunk
          for (let k = 0; k < slots; k++) d.writeUInt32LE(rva + nameAt, tableAt + k * 4);
          d.write('ntoskrnl.exe', dllAt, 'latin1');
          d.write('ExAllocatePoolWithTag', nameAt + 2, 'latin1');
          return d;
        },
      },
    ],
    directories: { 1: [rdataRva, 40], 12: [rdataRva + tableAt, (slots + 1) * 4] },
  });
}
