import { isExecutable, isInitSection, isWritable, sectionDetection } from './section-flags.js';
import type { Rule } from './types.js';

export const initRwx: Rule = {
  meta: {
    id: 'init-rwx',
    name: 'InitSectionNotWritable',
    defaultSeverity: 'warning',
    summary: 'The INIT section is writable and executable (the old WDK default).',
    explanation:
      'Drivers built with older versions of the WDK and Visual Studio mark the discardable INIT ' +
      'section read, write and execute. Windows 10 strips the write permission automatically, so ' +
      'if this is the only issue the driver is compatible with memory integrity; Driver Verifier ' +
      'may still flag it.',
    fix:
      'Build with a current toolchain, which makes INIT read+execute and discardable; with lld-link ' +
      'pass /SECTION:INIT,erd (not WDK\'s /SECTION:INIT,d, which lld-link turns non-executable).',
    reference: 'Driver compatibility with memory integrity and VBS, FAQ: "a known issue is that the INIT section is marked as RWX"',
    securitySeverity: 3.0,
    message: 'section INIT is writable and executable ({permissions}, characteristics {characteristics}); Windows 10 strips the W',
  },
  check(image) {
    return image.headers.sections
      .filter((s) => isInitSection(s) && isWritable(s) && isExecutable(s))
      .map(sectionDetection);
  },
};
