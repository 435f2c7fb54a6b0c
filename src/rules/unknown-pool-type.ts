import type { ArgReason, CallTarget, RefUse } from '../callsites/types.js';
import { hex } from '../pe/errors.js';
import { callSiteRule, placeOf } from './call-site-rule.js';
import { targetsOf } from './ddis.js';
import type { Detection, Rule } from './types.js';

/** Every DDI call-site analysis looks for, with the parameter that decides executability. */
export const CALLSITE_TARGETS: readonly CallTarget[] = targetsOf('all');

/** Why an argument is not a constant, in words. */
const REASONS: Readonly<Record<ArgReason, string>> = {
  'not-set': 'not set on every path from the start of the function',
  'differs-by-path': 'it differs between the paths that reach the call',
  'from-memory': 'loaded from memory',
  'after-call': 'changed by an earlier call',
  'not-followed': 'computed by an instruction the analysis does not follow',
  'no-stack-store': 'not stored to the stack before the call',
  'partial-store': 'stored in fewer bytes than the parameter',
  'import-address': 'the address of an imported function',
  address: 'an address, not a constant',
};

/** What became of a reference to the DDI that the analysis cannot follow, in words. */
const UNTRACKED: Readonly<Record<Exclude<RefUse, 'call'>, string>> = {
  stored: 'is stored to memory by the instruction at {site}',
  passed: 'is passed to another function by the call at {site}',
  returned: 'is returned by the function at {site}',
  unused: 'is loaded at {site}, and no call through it could be followed',
  'not-followed': 'is read at {site} by an instruction the analysis does not follow',
  'in-data': 'is stored in {section} at {site}',
};

const base = callSiteRule(
  {
    id: 'unknown-pool-type',
    name: 'ExecutabilityNotConstant',
    defaultSeverity: 'note',
    summary: 'A call to an allocation or mapping DDI passes a pool type, protection or priority that is not a constant, or goes where the analysis cannot follow.',
    explanation:
      'Call-site analysis reads the argument that decides whether a DDI hands out executable memory ' +
      '(the pool type or pool flags, the page protection, the MDL mapping priority), following the ' +
      'values through the function that makes the call. When that argument is computed at run time, ' +
      'loaded from memory or differs between paths, hvci-build does not guess: it lists the call so ' +
      'that it can be reviewed. It does the same for every reference to such a DDI that it cannot ' +
      'follow to a call: its address kept in a table in data, stored to memory, or passed to another ' +
      'function. Drivers built with POOL_NX_OPTIN=1 get such notes for every NonPagedPool, which ' +
      'becomes the global ExDefaultNonPagedPoolType. Driver Verifier would report an executable value ' +
      'at run time (bug check 0xC4, 0x2000 to 0x2002).',
    fix:
      'Check that the value passed can never ask for executable memory: an NX pool type ' +
      '(NonPagedPoolNx), POOL_FLAG_NON_PAGED, a protection without PAGE_EXECUTE*, or ' +
      'MdlMappingNoExecute in the priority. Passing the constant directly, and calling the DDI ' +
      'directly rather than through a function pointer, lets the check verify it.',
    reference: 'Warning table: Execute Pool Type, Execute Page Protection, Execute Page Mapping; Single binary opt-in: POOL_NX_OPTIN',
    securitySeverity: 2.0,
    undecided: true,
    message: '{ddi} is called with a {param} that is not a constant ({why}): check that it never asks for executable memory (call at {site})',
    messages: Object.fromEntries(
      Object.entries(UNTRACKED).map(([use, words]) => [
        `untracked-${use}`,
        `the address of {ddi} ${words}; calls through it cannot be followed: check that none asks for executable memory`,
      ]),
    ),
  },
  CALLSITE_TARGETS,
  (s) => (s.param && s.arg && !s.arg.known ? { param: s.param.name, why: REASONS[s.arg.reason] } : undefined),
);

export const unknownPoolType: Rule = {
  ...base,
  check(image, ctx) {
    const out: Detection[] = base.check!(image, ctx);
    const analysis = ctx.callSites;
    for (const u of analysis?.untracked ?? []) {
      const source = u.use === 'in-data' ? undefined : ctx.symbols?.sourceAt(u.rva);
      out.push({
        messageId: `untracked-${u.use}`,
        section: u.section,
        rva: u.rva,
        offset: u.offset,
        length: 1,
        ...(source ? { source } : {}),
        args: { ddi: u.ddi, rva: hex(u.rva), ...placeOf(ctx, u.rva), section: u.section, use: u.use },
      });
    }
    return out;
  },
};
