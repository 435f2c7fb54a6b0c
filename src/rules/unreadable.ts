import type { Rule } from './types.js';

/** Reported by the engine when a file cannot be opened or read. */
export const unreadable: Rule = {
  meta: {
    id: 'unreadable',
    name: 'ReadableInput',
    defaultSeverity: 'error',
    summary: 'The file could not be read.',
    explanation: 'hvci-build could not open or read the file, so nothing in it was checked.',
    fix: 'Check the path and the file\'s permissions.',
    reference: '-',
    securitySeverity: 1.0,
    message: 'cannot read file: {reason}',
  },
};
