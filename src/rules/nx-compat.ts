import { IMAGE_DLLCHARACTERISTICS_NX_COMPAT } from '../pe/constants.js';
import { hex } from '../pe/errors.js';
import type { Rule } from './types.js';

export const nxCompat: Rule = {
  meta: {
    id: 'nx-compat',
    name: 'NxCompatible',
    defaultSeverity: 'error',
    summary: 'The image does not declare NX_COMPAT.',
    explanation:
      'A driver compatible with memory integrity opts in to NX (no-execute) by default: ' +
      'DllCharacteristics must include IMAGE_DLLCHARACTERISTICS_NX_COMPAT (0x100), which says the ' +
      'image works with data that is not executable.',
    fix:
      'Link with /NXCOMPAT (lld-link\'s default; remove /NXCOMPAT:NO), and compile with ' +
      'POOL_NX_OPTIN_AUTO=1 or POOL_NX_OPTIN=1 so default pool allocations are non-executable.',
    reference: 'Implement HVCI compatible code: "Opts in to NX by default"',
    securitySeverity: 7.0,
    message: 'DllCharacteristics {dllCharacteristics} lacks NX_COMPAT (0x100)',
  },
  check(image) {
    const h = image.headers;
    if ((h.dllCharacteristics & IMAGE_DLLCHARACTERISTICS_NX_COMPAT) !== 0) return [];
    return [
      {
        offset: h.dllCharacteristicsOffset,
        length: 2,
        args: { dllCharacteristics: hex(h.dllCharacteristics) },
      },
    ];
  },
};
