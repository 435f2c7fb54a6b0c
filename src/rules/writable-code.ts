import { isCode, isInitSection, isWritable, sectionDetection } from './section-flags.js';
import { CONTRIBUTED, withContributors } from './symbol-context.js';
import type { Rule } from './types.js';

export const writableCode: Rule = {
  meta: {
    id: 'writable-code',
    name: 'NoWritableCodeSections',
    defaultSeverity: 'error',
    summary: 'A section that holds code (CNT_CODE) is writable.',
    explanation:
      'Under memory integrity executable code cannot be directly modified. A code section marked ' +
      'writable is either W+X, which the hypervisor refuses, or code that is not executable at ' +
      'all; in both cases the layout asks for code that can be changed at run time.',
    fix:
      'Remove the write permission from the code section (check /SECTION options and #pragma ' +
      'section/code_seg declarations), and move any data that the code writes into a data section.',
    reference: 'Implement HVCI compatible code: "Does not attempt to directly modify executable system memory"',
    securitySeverity: 8.0,
    message: 'code section {section} is writable ({permissions}, characteristics {characteristics})',
    messages: { contributed: 'code section {section} is writable ({permissions}, characteristics {characteristics})' + CONTRIBUTED },
  },
  check(image, ctx) {
    return image.headers.sections
      .filter((s) => isCode(s) && isWritable(s) && !isInitSection(s))
      .map((s) => withContributors(sectionDetection(s), s, ctx));
  },
};
