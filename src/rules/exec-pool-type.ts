import { callSiteRule, hexValue } from './call-site-rule.js';
import { targetsOf } from './ddis.js';
import type { Rule } from './types.js';

/*
 * Constants, from Microsoft's documentation:
 * - POOL_TYPE enumeration (wdm.h): NonPagedPool = NonPagedPoolExecute = 0, PagedPool = 1,
 *   NonPagedPoolMustSucceed = 2, DontUseThisType = 3, NonPagedPoolCacheAligned = 4,
 *   PagedPoolCacheAligned = 5, NonPagedPoolCacheAlignedMustS = 6, NonPagedPoolSession = 32
 *   (+1 paged, +2, +4, +6 as above), NonPagedPoolNx = 512, NonPagedPoolNxCacheAligned = 516,
 *   NonPagedPoolSessionNx = 544. "System memory allocated with the NonPagedPool pool type is
 *   executable"; odd values are paged pool, which Windows 8 and later allocate as NX ("All
 *   pageable memory is allocated as NX", ExInitializePagedLookasideList).
 * - ExInitializeNPagedLookasideList, Flags: POOL_NX_ALLOCATION = 512 ("Allocate non-executable
 *   memory"), POOL_RAISE_IF_ALLOCATION_FAILURE = 16. Without POOL_NX_ALLOCATION the entries
 *   come from executable NonPagedPool (Code Analysis warning C30034 shows exactly this call).
 * - POOL_FLAGS for ExAllocatePool2/ExAllocatePool3 (wdm.h): POOL_FLAG_NON_PAGED = 0x40,
 *   POOL_FLAG_NON_PAGED_EXECUTE = 0x80, POOL_FLAG_PAGED = 0x100.
 */
const NX_BIT = 0x200n;
const POOL_NX_ALLOCATION = 0x200n;
const POOL_FLAG_NON_PAGED_EXECUTE = 0x80n;

const POOL_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NonPagedPool (NonPagedPoolExecute)',
  2: 'NonPagedPoolMustSucceed',
  4: 'NonPagedPoolCacheAligned',
  6: 'NonPagedPoolCacheAlignedMustS',
  32: 'NonPagedPoolSession',
  34: 'NonPagedPoolMustSucceedSession',
  36: 'NonPagedPoolCacheAlignedSession',
  38: 'NonPagedPoolCacheAlignedMustSSession',
};

/** Why a constant pool argument requests executable memory, or undefined when it does not. */
export function executablePool(ddi: string, value: bigint): string | undefined {
  switch (ddi) {
    case 'ExAllocatePool2':
    case 'ExAllocatePool3':
      return value & POOL_FLAG_NON_PAGED_EXECUTE ? 'POOL_FLAG_NON_PAGED_EXECUTE (0x80) is set' : undefined;
    case 'ExInitializeNPagedLookasideList':
      return value & POOL_NX_ALLOCATION ? undefined : 'non-paged lookaside list without POOL_NX_ALLOCATION (0x200)';
    default: {
      // Paged pool (odd base types) is never executable; non-paged is, unless the NX bit is set.
      if (value & NX_BIT || value & 1n) return undefined;
      const name = POOL_TYPE_NAMES[Number(value & 0xffn)];
      const flags = value & ~0xffn;
      return name && flags === 0n ? name : `a non-paged pool type without NonPagedPoolNx (0x200)`;
    }
  }
}

export const execPoolType: Rule = callSiteRule(
  {
    id: 'exec-pool-type',
    name: 'NoExecutablePoolAllocation',
    defaultSeverity: 'error',
    summary: 'A call in the code allocates executable pool: a non-paged pool type without the NX bit, or POOL_FLAG_NON_PAGED_EXECUTE.',
    explanation:
      'With memory integrity on, drivers must use NX APIs and flags for memory allocation ' +
      '(NonPagedPoolNx). NonPagedPool, which has the same value as NonPagedPoolExecute (0), and the ' +
      'other non-paged pool types without the NX bit (0x200) allocate executable memory, as does ' +
      'ExAllocatePool2 or ExAllocatePool3 with POOL_FLAG_NON_PAGED_EXECUTE (0x80) and a non-paged ' +
      'lookaside list initialised without POOL_NX_ALLOCATION (0x200). Driver Verifier reports such a ' +
      'call as "Execute Pool Type" (bug check 0xC4, 0x2000) only at run time, when the call happens; ' +
      'Code Analysis reports it as C30030. hvci-build finds the call in the linked code and reads the ' +
      'constant the code passes.',
    fix:
      'Pass NonPagedPoolNx (or NonPagedPoolNxCacheAligned), POOL_FLAG_NON_PAGED, or POOL_NX_ALLOCATION ' +
      'in the lookaside Flags. For code written before Windows 8, compile with POOL_NX_OPTIN_AUTO=1, ' +
      'which turns NonPagedPool and NonPagedPoolCacheAligned into their NX forms, or with ' +
      'POOL_NX_OPTIN=1 and a call to ExInitializeDriverRuntime(DrvRtPoolNxOptIn) in DriverEntry.',
    reference:
      'Implement HVCI compatible code: "Uses NX APIs/flags for memory allocation (NonPagedPoolNx)"; Warning table: Execute Pool Type; POOL_TYPE enumeration; POOL_FLAGS; ExInitializeNPagedLookasideList; C30030',
    securitySeverity: 8.0,
    message: '{ddi} allocates executable memory: {param} is {value}, {meaning} (call at {site})',
  },
  targetsOf('exec-pool-type'),
  (s) => {
    if (!s.param || !s.arg?.known) return undefined;
    const meaning = executablePool(s.ddi, s.arg.value);
    return meaning === undefined ? undefined : { param: s.param.name, value: hexValue(s.arg.value), meaning };
  },
);
