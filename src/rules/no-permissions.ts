import { isDiscardable, isExecutable, isReadable, isWritable, sectionDetection } from './section-flags.js';
import { CONTRIBUTED, withContributors } from './symbol-context.js';
import type { Rule } from './types.js';

export const noPermissions: Rule = {
  meta: {
    id: 'no-permissions',
    name: 'SectionsHavePermissions',
    defaultSeverity: 'error',
    summary: 'A section that stays in memory has none of read, write and execute.',
    explanation:
      'A non-discardable section without MEM_READ, MEM_WRITE or MEM_EXECUTE is loaded but can ' +
      'never be used, and Code Integrity has to decide on a page protection the linker did not ' +
      'state. lld-link leaves such sections behind (.retplne, .voltbl with characteristics 0).',
    fix:
      'Discard the section or give it explicit permissions: drop the object section that produces ' +
      'it, or set /SECTION:name,r (read-only data) or /SECTION:name,d.',
    reference: 'Implement HVCI compatible code: clear separation of code and data; FACTS.md on .retplne',
    securitySeverity: 4.0,
    message: 'section {section} has no read, write or execute permission (characteristics {characteristics})',
    messages: { contributed: 'section {section} has no read, write or execute permission (characteristics {characteristics})' + CONTRIBUTED },
  },
  check(image, ctx) {
    return image.headers.sections
      .filter((s) => !isDiscardable(s) && !isReadable(s) && !isWritable(s) && !isExecutable(s))
      .map((s) => withContributors(sectionDetection(s), s, ctx));
  },
};
