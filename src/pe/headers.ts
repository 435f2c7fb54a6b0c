import {
  MACHINE_NAMES,
  OTHER_MACHINE_NAMES,
  PE32_MAGIC,
  PE32PLUS_MAGIC,
} from './constants.js';
import { hex, malformed } from './errors.js';
import type { ParseSkip } from './image.js';
import type { RelocationSummary } from './relocations.js';
import type { ByteSource } from './source.js';

export interface SectionHeader {
  index: number;
  name: string;
  virtualSize: number;
  virtualAddress: number;
  sizeOfRawData: number;
  pointerToRawData: number;
  characteristics: number;
  /** File offset of this 40-byte section header. */
  headerOffset: number;
}

export interface DataDirectory {
  rva: number;
  size: number;
  /** File offset of the 8-byte directory entry in the optional header. */
  entryOffset: number;
}

export interface PeHeaders {
  fileSize: number;
  peOffset: number;
  machine: number;
  machineName: string;
  /** Whether hvci-build knows this machine's relocations and code; other images are parsed, not malformed. */
  machineChecked: boolean;
  characteristics: number;
  /** File offset of the COFF Characteristics field. */
  characteristicsOffset: number;
  pointerToSymbolTable: number;
  numberOfSymbols: number;
  is64: boolean;
  addressOfEntryPoint: number;
  entryPointOffset: number;
  imageBase: bigint;
  sectionAlignment: number;
  sectionAlignmentOffset: number;
  fileAlignment: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  dllCharacteristics: number;
  dllCharacteristicsOffset: number;
  /** Up to 16 entries; missing ones are empty. */
  dataDirectories: DataDirectory[];
  sections: SectionHeader[];
}

// The Windows loader refuses images with more sections than this (PE format
// specification, "COFF File Header").
const MAX_SECTIONS = 96;
const SECTION_HEADER_SIZE = 40;
const DIRECTORY_COUNT = 16;

export function parseHeaders(src: ByteSource): PeHeaders {
  const fileSize = src.size;
  if (fileSize < 0x40) {
    malformed(`file is ${fileSize} bytes, too small for a DOS header (64 bytes)`, 0, 'e_magic');
  }
  const dos = src.read(0, 0x40);
  if (dos[0] !== 0x4d || dos[1] !== 0x5a) {
    malformed('no MZ signature at offset 0', 0, 'e_magic');
  }
  const peOffset = dos.readUInt32LE(0x3c);
  if (peOffset + 24 > fileSize) {
    malformed(
      `e_lfanew ${hex(peOffset)} points past the end of the file (${fileSize} bytes)`,
      0x3c,
      'e_lfanew',
    );
  }
  const coff = src.read(peOffset, 24);
  if (coff.readUInt32LE(0) !== 0x00004550) {
    malformed(`no PE signature at e_lfanew ${hex(peOffset)}`, peOffset, 'Signature');
  }
  const machine = coff.readUInt16LE(4);
  // Another machine's image is still a PE image: its layout is read the same way.
  const machineChecked = MACHINE_NAMES[machine] !== undefined;
  const machineName = MACHINE_NAMES[machine] ?? OTHER_MACHINE_NAMES[machine] ?? 'unknown';
  const numberOfSections = coff.readUInt16LE(6);
  const pointerToSymbolTable = coff.readUInt32LE(12);
  const numberOfSymbols = coff.readUInt32LE(16);
  const sizeOfOptionalHeader = coff.readUInt16LE(20);
  const characteristics = coff.readUInt16LE(22);
  const optOffset = peOffset + 24;

  if (optOffset + 2 > fileSize) {
    malformed('optional header runs past the end of the file', optOffset, 'Magic');
  }
  const magic = src.read(optOffset, 2).readUInt16LE(0);
  if (magic !== PE32_MAGIC && magic !== PE32PLUS_MAGIC) {
    malformed(`optional header magic ${hex(magic)} is neither PE32 nor PE32+`, optOffset, 'Magic');
  }
  const is64 = magic === PE32PLUS_MAGIC;
  // Size of the optional header up to (not including) the data directories.
  const fixedSize = is64 ? 112 : 96;
  if (sizeOfOptionalHeader < fixedSize) {
    malformed(
      `SizeOfOptionalHeader ${sizeOfOptionalHeader} is smaller than the ${fixedSize} bytes a ${is64 ? 'PE32+' : 'PE32'} header needs`,
      peOffset + 20,
      'SizeOfOptionalHeader',
    );
  }
  if (optOffset + sizeOfOptionalHeader > fileSize) {
    malformed(
      `optional header (${sizeOfOptionalHeader} bytes at ${hex(optOffset)}) runs past the end of the file`,
      peOffset + 20,
      'SizeOfOptionalHeader',
    );
  }
  const opt = src.read(optOffset, sizeOfOptionalHeader);
  const addressOfEntryPoint = opt.readUInt32LE(16);
  const imageBase = is64 ? opt.readBigUInt64LE(24) : BigInt(opt.readUInt32LE(28));
  const sectionAlignment = opt.readUInt32LE(32);
  const fileAlignment = opt.readUInt32LE(36);
  const sizeOfImage = opt.readUInt32LE(56);
  const sizeOfHeaders = opt.readUInt32LE(60);
  const dllCharacteristics = opt.readUInt16LE(70);
  const numberOfRvaAndSizes = opt.readUInt32LE(is64 ? 108 : 92);

  const dirRoom = Math.floor((sizeOfOptionalHeader - fixedSize) / 8);
  if (numberOfRvaAndSizes > dirRoom) {
    malformed(
      `NumberOfRvaAndSizes ${numberOfRvaAndSizes} does not fit in SizeOfOptionalHeader ${sizeOfOptionalHeader} (room for ${dirRoom})`,
      optOffset + (is64 ? 108 : 92),
      'NumberOfRvaAndSizes',
    );
  }
  const dataDirectories: DataDirectory[] = [];
  for (let i = 0; i < DIRECTORY_COUNT; i++) {
    const at = fixedSize + i * 8;
    const entryOffset = optOffset + at;
    if (i < numberOfRvaAndSizes) {
      const rva = opt.readUInt32LE(at);
      // The Windows loader takes a directory with RVA 0 as absent, whatever its size says.
      dataDirectories.push({ rva, size: rva === 0 ? 0 : opt.readUInt32LE(at + 4), entryOffset });
    } else {
      dataDirectories.push({ rva: 0, size: 0, entryOffset });
    }
  }

  if (numberOfSections === 0 || numberOfSections > MAX_SECTIONS) {
    malformed(
      `NumberOfSections ${numberOfSections} is outside 1..${MAX_SECTIONS}, which the Windows loader accepts`,
      peOffset + 6,
      'NumberOfSections',
    );
  }
  const tableOffset = optOffset + sizeOfOptionalHeader;
  const tableSize = numberOfSections * SECTION_HEADER_SIZE;
  if (tableOffset + tableSize > fileSize) {
    malformed(
      `section table (${numberOfSections} sections at ${hex(tableOffset)}) runs past the end of the file (${fileSize} bytes)`,
      peOffset + 6,
      'NumberOfSections',
    );
  }
  if (sizeOfHeaders > fileSize) {
    malformed(
      `SizeOfHeaders ${hex(sizeOfHeaders)} is larger than the file (${fileSize} bytes)`,
      optOffset + 60,
      'SizeOfHeaders',
    );
  }
  const table = src.read(tableOffset, tableSize);
  const sections: SectionHeader[] = [];
  for (let i = 0; i < numberOfSections; i++) {
    const at = i * SECTION_HEADER_SIZE;
    const headerOffset = tableOffset + at;
    const section: SectionHeader = {
      index: i,
      name: sectionName(table, at),
      virtualSize: table.readUInt32LE(at + 8),
      virtualAddress: table.readUInt32LE(at + 12),
      sizeOfRawData: table.readUInt32LE(at + 16),
      pointerToRawData: table.readUInt32LE(at + 20),
      characteristics: table.readUInt32LE(at + 36),
      headerOffset,
    };
    if (section.sizeOfRawData > 0 && section.pointerToRawData + section.sizeOfRawData > fileSize) {
      malformed(
        `section ${section.name} raw data (${hex(section.sizeOfRawData)} bytes at ${hex(section.pointerToRawData)}) runs past the end of the file (${fileSize} bytes)`,
        headerOffset + 16,
        'SizeOfRawData',
      );
    }
    const previous = sections[i - 1];
    if (previous && section.virtualAddress < previous.virtualAddress + sectionSpan(previous)) {
      malformed(
        `section ${section.name} at RVA ${hex(section.virtualAddress)} overlaps section ${previous.name} or is out of order`,
        headerOffset + 12,
        'VirtualAddress',
      );
    }
    if (section.virtualAddress + sectionSpan(section) > sizeOfImage) {
      malformed(
        `section ${section.name} ends at RVA ${hex(section.virtualAddress + sectionSpan(section))}, past SizeOfImage ${hex(sizeOfImage)}`,
        headerOffset + 8,
        'VirtualSize',
      );
    }
    sections.push(section);
  }
  if (addressOfEntryPoint >= sizeOfImage) {
    malformed(
      `AddressOfEntryPoint ${hex(addressOfEntryPoint)} is past SizeOfImage ${hex(sizeOfImage)}`,
      optOffset + 16,
      'AddressOfEntryPoint',
    );
  }

  return {
    fileSize,
    peOffset,
    machine,
    machineName,
    machineChecked,
    characteristics,
    characteristicsOffset: peOffset + 22,
    pointerToSymbolTable,
    numberOfSymbols,
    is64,
    addressOfEntryPoint,
    entryPointOffset: optOffset + 16,
    imageBase,
    sectionAlignment,
    sectionAlignmentOffset: optOffset + 32,
    fileAlignment,
    sizeOfImage,
    sizeOfHeaders,
    dllCharacteristics,
    dllCharacteristicsOffset: optOffset + 70,
    dataDirectories,
    sections,
  };
}

/**
 * For an image of a machine hvci-build does not check: its relocations, not
 * read (their types are machine-specific), and the note saying so. The header
 * and section rules still apply to it.
 */
export function unsupportedMachine(h: PeHeaders): { relocations: RelocationSummary; note: ParseSkip } | undefined {
  if (h.machineChecked) return undefined;
  return {
    relocations: { blocks: 0, entries: 0, straddling: [], skipped: undefined },
    note: { reason: 'machine', machine: h.machineName, code: h.machine },
  };
}

/** Bytes the section occupies in memory (VirtualSize, or SizeOfRawData when that is 0). */
export function sectionSpan(s: SectionHeader): number {
  return s.virtualSize !== 0 ? s.virtualSize : s.sizeOfRawData;
}

function sectionName(table: Buffer, at: number): string {
  let end = at;
  while (end < at + 8 && table[end] !== 0) end++;
  return table.toString('latin1', at, end);
}

export function sectionForRva(sections: readonly SectionHeader[], rva: number): SectionHeader | undefined {
  for (const s of sections) {
    if (rva >= s.virtualAddress && rva < s.virtualAddress + sectionSpan(s)) return s;
  }
  return undefined;
}
