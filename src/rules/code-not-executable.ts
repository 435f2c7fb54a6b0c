import { sectionForRva } from '../pe/headers.js';
import { hex } from '../pe/errors.js';
import { isExecutable, permissions } from './section-flags.js';
import type { Rule } from './types.js';

export const codeNotExecutable: Rule = {
  meta: {
    id: 'code-not-executable',
    name: 'EntryPointExecutable',
    defaultSeverity: 'error',
    summary: 'The entry point lies in a section that is not executable.',
    explanation:
      'The driver\'s entry point must be in executable memory. lld-link replaces a section\'s ' +
      'R/W/E bits with exactly those named in /SECTION, so WDK\'s /SECTION:INIT,d yields an INIT ' +
      'that is neither readable nor executable; with DriverEntry in INIT the driver cannot start.',
    fix:
      'Give the section its permissions in full: /SECTION:INIT,erd for a discardable read+execute ' +
      'INIT, or let hvci-build link translate the WDK form.',
    reference: 'FACTS.md, lld-link 19 behaviour: /SECTION replaces the R/W/E bits',
    securitySeverity: 5.0,
    message: 'entry point {entryPoint} is in section {section}, which is not executable ({permissions})',
  },
  check(image) {
    const h = image.headers;
    if (h.addressOfEntryPoint === 0) return [];
    const s = sectionForRva(h.sections, h.addressOfEntryPoint);
    if (!s || isExecutable(s)) return [];
    return [
      {
        section: s.name,
        rva: h.addressOfEntryPoint,
        offset: h.entryPointOffset,
        length: 4,
        args: { section: s.name, entryPoint: hex(h.addressOfEntryPoint), permissions: permissions(s) },
      },
    ];
  },
};
