import {
  IMAGE_SCN_CNT_CODE,
  IMAGE_SCN_MEM_DISCARDABLE,
  IMAGE_SCN_MEM_EXECUTE,
  IMAGE_SCN_MEM_READ,
  IMAGE_SCN_MEM_WRITE,
} from '../pe/constants.js';
import { hex } from '../pe/errors.js';
import type { SectionHeader } from '../pe/headers.js';

export const isExecutable = (s: SectionHeader): boolean => (s.characteristics & IMAGE_SCN_MEM_EXECUTE) !== 0;
export const isWritable = (s: SectionHeader): boolean => (s.characteristics & IMAGE_SCN_MEM_WRITE) !== 0;
export const isReadable = (s: SectionHeader): boolean => (s.characteristics & IMAGE_SCN_MEM_READ) !== 0;
export const isCode = (s: SectionHeader): boolean => (s.characteristics & IMAGE_SCN_CNT_CODE) !== 0;
export const isDiscardable = (s: SectionHeader): boolean => (s.characteristics & IMAGE_SCN_MEM_DISCARDABLE) !== 0;

/** "RWX" style permissions, with '-' for what is missing. */
export function permissions(s: SectionHeader): string {
  return (isReadable(s) ? 'R' : '-') + (isWritable(s) ? 'W' : '-') + (isExecutable(s) ? 'X' : '-');
}

/** The arguments and location every per-section finding carries. */
export function sectionDetection(s: SectionHeader): {
  section: string;
  rva: number;
  offset: number;
  length: number;
  args: { section: string; characteristics: string; permissions: string };
} {
  return {
    section: s.name,
    rva: s.virtualAddress,
    // The Characteristics field of the section header.
    offset: s.headerOffset + 36,
    length: 4,
    args: { section: s.name, characteristics: hex(s.characteristics), permissions: permissions(s) },
  };
}

/** WDK drivers name their discardable initialisation code section INIT. */
export const isInitSection = (s: SectionHeader): boolean => s.name === 'INIT';
