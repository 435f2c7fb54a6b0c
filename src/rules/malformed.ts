import type { Rule } from './types.js';

/** Reported by the engine when parsing fails; it has no check of its own. */
export const malformedRule: Rule = {
  meta: {
    id: 'malformed',
    name: 'ConsistentImage',
    defaultSeverity: 'error',
    summary: 'The file is not a consistent PE image.',
    explanation:
      'The headers or directories of the file contradict each other or point outside the file ' +
      '(a truncated image, a wrong e_lfanew, section data past the end, a broken relocation or ' +
      'import table). Windows would refuse to load it, and none of the memory integrity rules can ' +
      'be checked reliably.',
    fix: 'Rebuild the image; if it came from elsewhere, get an intact copy. The message names the field and the file offset at fault.',
    reference: 'PE format specification',
    securitySeverity: 6.0,
    message: '{problem} (field {field} at offset {fieldOffset})',
  },
};
