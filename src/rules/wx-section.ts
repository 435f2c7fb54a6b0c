import { isExecutable, isInitSection, isWritable, sectionDetection } from './section-flags.js';
import { CONTRIBUTED, withContributors } from './symbol-context.js';
import type { Rule } from './types.js';

export const wxSection: Rule = {
  meta: {
    id: 'wx-section',
    name: 'NoWritableExecutableSections',
    defaultSeverity: 'error',
    summary: 'A section is both writable and executable.',
    explanation:
      'With memory integrity (HVCI) on, kernel memory pages can never be writable and executable ' +
      '(W+X): only memory that passed a Code Integrity check becomes executable, and executable ' +
      'pages are never writable. A section with both MEM_WRITE and MEM_EXECUTE breaks that, and ' +
      'Driver Verifier reports it as "Execute-Write Section" (bug check 0xC4, 0x2003).',
    fix:
      'Keep code and data apart: do not give a section both write and execute (no /SECTION:name,rwe, ' +
      'no #pragma section with execute and write), and do not /MERGE a data section into a code ' +
      'section. Code that writes to itself or generates code at run time is not supported under HVCI.',
    reference: 'Implement HVCI compatible code: "Does not use sections that are both writable and executable"; Warning table: Execute-Write Section',
    securitySeverity: 8.5,
    message: 'section {section} is writable and executable ({permissions}, characteristics {characteristics})',
    messages: { contributed: 'section {section} is writable and executable ({permissions}, characteristics {characteristics})' + CONTRIBUTED },
  },
  check(image, ctx) {
    return image.headers.sections
      .filter((s) => isWritable(s) && isExecutable(s) && !isInitSection(s))
      .map((s) => withContributors(sectionDetection(s), s, ctx));
  },
};
