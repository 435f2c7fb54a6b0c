import { DIR_IAT } from '../pe/constants.js';
import { hex } from '../pe/errors.js';
import { sectionSpan, type PeHeaders } from '../pe/headers.js';
import type { ImportedModule } from '../pe/imports.js';
import { isExecutable, permissions } from './section-flags.js';
import { CONTRIBUTED, withContributors } from './symbol-context.js';
import type { Detection, Rule } from './types.js';

interface IatRange {
  start: number;
  end: number;
  /** The directory entry or import descriptor that names the range. */
  offset: number;
  length: number;
  source: string;
}

export const iatInExec: Rule = {
  meta: {
    id: 'iat-in-exec',
    name: 'ImportAddressTableNotExecutable',
    defaultSeverity: 'error',
    summary: 'The import address table (IAT) lies in an executable section.',
    explanation:
      'The IAT should not be in executable memory. The loader writes the addresses of imported ' +
      'functions into it; in a read+execute section under memory integrity it cannot. This ' +
      'usually comes from /MERGE: merging .rdata into .text puts the IAT into executable memory. ' +
      'Driver Verifier reports it as "IAT in Executable Section" (bug check 0xC4, 0x2005). ' +
      'The import descriptors (data directory 1) may be in executable INIT, as in WDK drivers; ' +
      'the rule is about the IAT.',
    fix: 'Remove /MERGE options that merge .rdata, .idata or other data sections into .text, INIT or PAGE.',
    reference: 'Warning table: IAT in Executable Section',
    securitySeverity: 7.5,
    message: 'the IAT ({source}, RVA {start}..{end}) lies in executable section {section} ({permissions})',
    messages: { contributed: 'the IAT ({source}, RVA {start}..{end}) lies in executable section {section} ({permissions})' + CONTRIBUTED },
  },
  check(image, ctx) {
    const out: Detection[] = [];
    for (const range of iatRanges(image.headers, image.imports)) {
      for (const s of image.headers.sections) {
        const sStart = s.virtualAddress;
        const sEnd = sStart + sectionSpan(s);
        if (!isExecutable(s) || range.end <= sStart || range.start >= sEnd) continue;
        const start = Math.max(range.start, sStart);
        const d: Detection = {
          section: s.name,
          rva: start,
          offset: range.offset,
          length: range.length,
          args: {
            source: range.source,
            start: hex(range.start),
            end: hex(range.end),
            section: s.name,
            permissions: permissions(s),
          },
        };
        out.push(withContributors(d, s, ctx));
      }
    }
    return out;
  },
};

/** Data directory 12 when set; otherwise the FirstThunk arrays, which the loader patches. */
function iatRanges(h: PeHeaders, imports: readonly ImportedModule[]): IatRange[] {
  const dir = h.dataDirectories[DIR_IAT]!;
  if (dir.rva !== 0 && dir.size !== 0) {
    return [{ start: dir.rva, end: dir.rva + dir.size, offset: dir.entryOffset, length: 8, source: 'IAT directory' }];
  }
  return imports
    .filter((m) => m.firstThunkRva !== 0)
    .map((m) => ({
      start: m.firstThunkRva,
      end: m.firstThunkRva + m.firstThunkSize,
      offset: m.descriptorOffset + 16,
      length: 4,
      source: `FirstThunk array of ${m.dll}`,
    }));
}
