import { siteDetection, sitesOf } from '../callsites/report.js';
import type { CallTarget } from '../callsites/types.js';
import { MDL_TARGETS } from './exec-mdl-mapping.js';
import { PROTECTION_TARGETS } from './exec-page-protection.js';
import { POOL_TARGETS } from './exec-pool-type.js';
import type { Detection, Rule } from './types.js';

/** Every DDI call-site analysis looks for, with the parameter that decides executability. */
export const CALLSITE_TARGETS: readonly CallTarget[] = [...POOL_TARGETS, ...PROTECTION_TARGETS, ...MDL_TARGETS];

const DDIS = new Set(CALLSITE_TARGETS.filter((t) => t.param).map((t) => t.ddi));

export const unknownPoolType: Rule = {
  meta: {
    id: 'unknown-pool-type',
    name: 'ExecutabilityNotConstant',
    defaultSeverity: 'note',
    summary: 'A call to an allocation or mapping DDI passes a pool type, protection or priority that is not a constant.',
    explanation:
      'Call-site analysis reads the argument that decides whether a DDI hands out executable memory ' +
      '(the pool type or pool flags, the page protection, the MDL mapping priority) from the ' +
      'instructions right before the call. When that argument is computed at run time, loaded from ' +
      'memory or set outside the basic block of the call, hvci-build does not guess: it lists the call ' +
      'so that it can be reviewed. Drivers built with POOL_NX_OPTIN=1 get such notes for every ' +
      'NonPagedPool, which becomes the global ExDefaultNonPagedPoolType. Driver Verifier would report ' +
      'an executable value at run time (bug check 0xC4, 0x2000 to 0x2002).',
    fix:
      'Check that the value passed can never ask for executable memory: an NX pool type ' +
      '(NonPagedPoolNx), POOL_FLAG_NON_PAGED, a protection without PAGE_EXECUTE*, or ' +
      'MdlMappingNoExecute in the priority. Passing the constant directly lets the check verify it.',
    reference: 'Warning table: Execute Pool Type, Execute Page Protection, Execute Page Mapping; Single binary opt-in: POOL_NX_OPTIN',
    securitySeverity: 2.0,
    message: '{ddi} is called with a {param} that is not a constant ({why}): check that it never asks for executable memory (call at {site})',
  },
  check(image) {
    const out: Detection[] = [];
    for (const s of sitesOf(image, DDIS)) {
      if (!s.param || !s.arg || s.arg.known) continue;
      out.push(siteDetection(image, s, { param: s.param.name, why: s.arg.why }));
    }
    return out;
  },
};
