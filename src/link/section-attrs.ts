import {
  IMAGE_SCN_CNT_CODE,
  IMAGE_SCN_MEM_DISCARDABLE,
  IMAGE_SCN_MEM_EXECUTE,
  IMAGE_SCN_MEM_READ,
  IMAGE_SCN_MEM_WRITE,
} from '../pe/constants.js';

/** The /SECTION attribute letters and their characteristics bits (link.exe and lld-link agree on these). */
export const SECTION_LETTERS: Readonly<Record<string, number>> = {
  e: IMAGE_SCN_MEM_EXECUTE,
  r: IMAGE_SCN_MEM_READ,
  w: IMAGE_SCN_MEM_WRITE,
  d: IMAGE_SCN_MEM_DISCARDABLE,
  s: 0x10000000, // MEM_SHARED
  k: 0x04000000, // MEM_NOT_CACHED
  p: 0x08000000, // MEM_NOT_PAGED
};

const LETTER_MASK = Object.values(SECTION_LETTERS).reduce((a, b) => a | b, 0);

export interface SectionSpec {
  name: string;
  set: number;
  cleared: number;
}

/** Parses "name,[!]letters" (link.exe syntax); undefined with a reason when it is not valid. */
export function parseSectionSpec(value: string): SectionSpec | string {
  const parts = value.split(',');
  const name = parts[0] ?? '';
  if (!name) return 'no section name';
  if (parts.length > 2) {
    return /^align=/i.test(parts[2] ?? '') ? 'lld-link does not support ALIGN= in /SECTION' : `unexpected '${parts.slice(2).join(',')}'`;
  }
  let set = 0;
  let cleared = 0;
  const attrs = (parts[1] ?? '').toLowerCase();
  for (let i = 0; i < attrs.length; i++) {
    let negate = false;
    if (attrs[i] === '!') {
      negate = true;
      i++;
    }
    const bit = SECTION_LETTERS[attrs[i] ?? ''];
    if (bit === undefined) return `unknown attribute '${attrs[i] ?? '!'}'`;
    if (negate) {
      cleared |= bit;
      set &= ~bit;
    } else {
      set |= bit;
      cleared &= ~bit;
    }
  }
  return { name, set, cleared };
}

/**
 * What link.exe makes of /SECTION: the named bits set, the negated ones
 * cleared, and every other bit kept from the section's own characteristics.
 */
export function linkExeResult(base: number, spec: SectionSpec): number {
  return ((base & LETTER_MASK) | spec.set) & ~spec.cleared;
}

/** lld-link letters giving exactly these bits (lld replaces all of R/W/E/D/S/K/P). */
export function lettersFor(bits: number): string {
  return Object.entries(SECTION_LETTERS)
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([letter]) => letter)
    .join('');
}

export const isWX = (bits: number): boolean =>
  (bits & IMAGE_SCN_MEM_WRITE) !== 0 && (bits & IMAGE_SCN_MEM_EXECUTE) !== 0;

export const isExec = (bits: number): boolean => (bits & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE)) !== 0;

/** What lld-link makes of /SECTION (as a .drectve gives it): the named bits replace all of R/W/E/D/S/K/P. */
export function lldResult(base: number, spec: SectionSpec): number {
  return (base & ~LETTER_MASK) | spec.set;
}
