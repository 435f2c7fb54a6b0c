/**
 * The one table of DDIs that can hand out executable memory: which the inventory rule
 * (affected-ddi-import) lists, and which call-site rule judges each call and by which
 * argument. Adding a checked DDI is one entry here (and its test fixture).
 *
 * Sources: Microsoft's list of DDIs that may be impacted by memory integrity (both versions
 * in the reference documents: the older names NdisAllocateMemory, the newer
 * NdisAllocateMemoryWithTagPriority); Code Analysis warning C30029 for the DDIs that always
 * return executable memory; each DDI's reference page for its parameters (zero-based
 * indices; `x86Slot` where a 64-bit parameter before it takes two stdcall slots). The COM
 * methods on Microsoft's list (IMiniport*::NewStream, IPortWavePci::...) and the
 * DxgkCbMapMemory callback are not imports, and WDF functions are reached through the WDF
 * function table, so only exported functions are matched.
 */
import type { CallTarget, DecidingParam } from '../callsites/types.js';

export type CallSiteRuleId = 'exec-pool-type' | 'exec-page-protection' | 'exec-mdl-mapping';

export interface DdiEntry {
  ddi: string;
  /** On Microsoft's list of DDIs that may be impacted by memory integrity. */
  listed: boolean;
  /** Always returns executable memory, whatever the arguments (C30029). */
  always?: boolean;
  /** The call-site rule that judges its calls, with the deciding parameter (none: every call is executable). */
  check?: { rule: CallSiteRuleId; param?: DecidingParam; also?: DecidingParam };
}

const poolType: DecidingParam = { index: 0, name: 'PoolType' };
const pool = (param: DecidingParam = poolType): DdiEntry['check'] => ({ rule: 'exec-pool-type', param });
const protect = (index: number, name: string, x86Slot?: number, also?: DecidingParam): DdiEntry['check'] => ({
  rule: 'exec-page-protection',
  param: { index, name, ...(x86Slot !== undefined ? { x86Slot } : {}) },
  ...(also ? { also } : {}),
});
const sectionAttributes: DecidingParam = { index: 5, name: 'AllocationAttributes' };

export const DDIS: readonly DdiEntry[] = [
  { ddi: 'ExAllocatePool', listed: true, check: pool() },
  { ddi: 'ExAllocatePoolWithQuota', listed: true, check: pool() },
  { ddi: 'ExAllocatePoolWithQuotaTag', listed: true, check: pool() },
  { ddi: 'ExAllocatePoolWithTag', listed: true, check: pool() },
  { ddi: 'ExAllocatePoolWithTagPriority', listed: true, check: pool() },
  { ddi: 'ExInitializeNPagedLookasideList', listed: true, check: pool({ index: 3, name: 'Flags' }) },
  { ddi: 'ExInitializeLookasideListEx', listed: true, check: pool({ index: 3, name: 'PoolType' }) },
  { ddi: 'ExAllocatePool2', listed: false, check: pool({ index: 0, name: 'Flags', wide: true }) },
  { ddi: 'ExAllocatePool3', listed: false, check: pool({ index: 0, name: 'Flags', wide: true }) },
  { ddi: 'ZwAllocateVirtualMemory', listed: true, check: protect(5, 'Protect') },
  { ddi: 'ZwProtectVirtualMemory', listed: false, check: protect(3, 'NewProtect') },
  // PHYSICAL_ADDRESS (64-bit) first: Protect is the fourth stdcall slot on x86.
  { ddi: 'MmMapIoSpaceEx', listed: false, check: protect(2, 'Protect', 3) },
  { ddi: 'ZwMapViewOfSection', listed: true, check: protect(9, 'Win32Protect') },
  { ddi: 'NtMapViewOfSection', listed: true, check: protect(9, 'Win32Protect') },
  { ddi: 'ZwCreateSection', listed: true, check: protect(4, 'SectionPageProtection', undefined, sectionAttributes) },
  { ddi: 'NtCreateSection', listed: true, check: protect(4, 'SectionPageProtection', undefined, sectionAttributes) },
  { ddi: 'MmProtectMdlSystemAddress', listed: true, check: protect(1, 'NewProtect') },
  // SIZE_T, then three PHYSICAL_ADDRESS (two stdcall slots each): Protect is slot 7 on x86.
  { ddi: 'MmAllocateContiguousNodeMemory', listed: true, check: protect(4, 'Protect', 7) },
  { ddi: 'MmMapLockedPagesSpecifyCache', listed: true, check: { rule: 'exec-mdl-mapping', param: { index: 5, name: 'Priority' } } },
  { ddi: 'MmMapLockedPages', listed: true, always: true, check: { rule: 'exec-mdl-mapping' } },
  { ddi: 'MmMapIoSpace', listed: true, always: true },
  { ddi: 'MmAllocateContiguousMemory', listed: true, always: true },
  { ddi: 'MmAllocateContiguousMemorySpecifyCache', listed: true, always: true },
  { ddi: 'MmAllocateContiguousMemorySpecifyCacheNode', listed: true },
  { ddi: 'MmCopyMemory', listed: true },
  { ddi: 'ClfsCreateMarshallingArea', listed: true },
  { ddi: 'NdisAllocateMemory', listed: true },
  { ddi: 'NdisAllocateMemoryWithTagPriority', listed: true },
  { ddi: 'StorPortGetDataInBufferSystemAddress', listed: true },
  { ddi: 'StorPortGetSystemAddress', listed: true },
  { ddi: 'ChangerClassAllocatePool', listed: true },
  { ddi: 'VideoPortAllocatePool', listed: true },
  { ddi: 'PcNewDmaChannel', listed: true },
  { ddi: 'PcNewResourceList', listed: true },
  { ddi: 'PcNewResourceSublist', listed: true },
  { ddi: 'FltAllocatePoolAlignedWithTag', listed: true },
  { ddi: 'FltAllocateContext', listed: true },
];

export const DDI_BY_NAME: ReadonlyMap<string, DdiEntry> = new Map(DDIS.map((d) => [d.ddi, d]));

/** The call targets a call-site rule judges (all of them, for the rule that notes what cannot be judged). */
export function targetsOf(rule: CallSiteRuleId | 'all'): CallTarget[] {
  return DDIS.filter((d) => d.check && (rule === 'all' || d.check.rule === rule)).map((d) => ({
    ddi: d.ddi,
    param: d.check!.param,
    ...(d.check!.also ? { also: d.check!.also } : {}),
  }));
}
