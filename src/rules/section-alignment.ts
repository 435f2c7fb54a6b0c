import { PAGE_SIZE } from '../pe/constants.js';
import { hex } from '../pe/errors.js';
import type { Detection, Rule } from './types.js';

export const sectionAlignment: Rule = {
  meta: {
    id: 'section-alignment',
    name: 'SectionsPageAligned',
    defaultSeverity: 'error',
    summary: 'SectionAlignment or a section\'s address is not a multiple of 0x1000.',
    explanation:
      'Memory integrity protects memory per 4 KiB page, so every section must start on a page of ' +
      'its own: section alignment must be a multiple of 0x1000 (PAGE_SIZE). Driver Verifier reports ' +
      'otherwise as "Section Alignment Failures" (bug check 0xC4, 0x2004). lld-link accepts ' +
      '/ALIGN:0x200 with /DRIVER silently.',
    fix: 'Link with /ALIGN:0x1000 (the default) and drop any smaller /ALIGN; in WDK projects DRIVER_ALIGNMENT=0x1000.',
    reference: 'Implement HVCI compatible code: "Section alignment is a multiple of 0x1000 (PAGE_SIZE)"; Warning table: Section Alignment Failures',
    securitySeverity: 7.0,
    message: '{what} {value} is not a multiple of 0x1000',
  },
  check(image) {
    const h = image.headers;
    const out: Detection[] = [];
    if (h.sectionAlignment % PAGE_SIZE !== 0) {
      out.push({
        offset: h.sectionAlignmentOffset,
        length: 4,
        args: { what: 'SectionAlignment', value: hex(h.sectionAlignment) },
      });
    }
    for (const s of h.sections) {
      if (s.virtualAddress % PAGE_SIZE !== 0) {
        out.push({
          section: s.name,
          rva: s.virtualAddress,
          offset: s.headerOffset + 12,
          length: 4,
          args: { what: `section ${s.name} VirtualAddress`, value: hex(s.virtualAddress) },
        });
      }
    }
    return out;
  },
};
