import type { Rule } from './types.js';

/**
 * The DDIs that Microsoft lists as potentially affected by memory integrity,
 * from both versions of the list in the reference documents (the older one
 * names NdisAllocateMemory, the newer NdisAllocateMemoryWithTagPriority). The
 * COM methods on that list (IMiniport*::NewStream, IPortWavePci::...) and the
 * DxgkCbMapMemory callback are not imports, and WDF functions are reached
 * through the WDF function table, so only exported functions are matched.
 */
export const AFFECTED_DDIS: ReadonlySet<string> = new Set([
  'ExAllocatePool',
  'ExAllocatePoolWithQuota',
  'ExAllocatePoolWithQuotaTag',
  'ExAllocatePoolWithTag',
  'ExAllocatePoolWithTagPriority',
  'ExInitializeNPagedLookasideList',
  'ExInitializeLookasideListEx',
  'MmAllocateContiguousMemory',
  'MmAllocateContiguousMemorySpecifyCache',
  'MmAllocateContiguousMemorySpecifyCacheNode',
  'MmAllocateContiguousNodeMemory',
  'MmCopyMemory',
  'MmMapIoSpace',
  'MmMapLockedPages',
  'MmMapLockedPagesSpecifyCache',
  'MmProtectMdlSystemAddress',
  'ZwAllocateVirtualMemory',
  'ZwCreateSection',
  'ZwMapViewOfSection',
  'NtCreateSection',
  'NtMapViewOfSection',
  'ClfsCreateMarshallingArea',
  'NdisAllocateMemory',
  'NdisAllocateMemoryWithTagPriority',
  'StorPortGetDataInBufferSystemAddress',
  'StorPortGetSystemAddress',
  'ChangerClassAllocatePool',
  'VideoPortAllocatePool',
  'PcNewDmaChannel',
  'PcNewResourceList',
  'PcNewResourceSublist',
  'FltAllocatePoolAlignedWithTag',
  'FltAllocateContext',
]);

/**
 * DDIs that always return executable memory, whatever the arguments (Code
 * Analysis warning C30029). MmMapLockedPages has no way to ask for a
 * non-executable mapping either.
 */
export const ALWAYS_EXECUTABLE_DDIS: ReadonlySet<string> = new Set([
  'MmMapIoSpace',
  'MmAllocateContiguousMemory',
  'MmAllocateContiguousMemorySpecifyCache',
  'MmMapLockedPages',
]);

export const affectedDdiImport: Rule = {
  meta: {
    id: 'affected-ddi-import',
    name: 'AffectedDdiInventory',
    defaultSeverity: 'note',
    summary: 'The image imports DDIs that can allocate or map executable memory.',
    explanation:
      'Microsoft lists the DDIs that may be impacted by memory integrity: allocation and mapping ' +
      'functions that hand out executable memory unless the caller asks for non-executable memory ' +
      '(an NX pool type such as NonPagedPoolNx, a PAGE_* protection without execute, ' +
      'MdlMappingNoExecute). Some always return executable memory (Code Analysis warning C30029): ' +
      'MmMapIoSpace, MmAllocateContiguousMemory and MmAllocateContiguousMemorySpecifyCache, and ' +
      'MmMapLockedPages. Driver Verifier catches the unsafe calls only at run time (Execute Pool ' +
      'Type, Execute Page Protection, Execute Page Mapping).',
    fix:
      'Review each call: pass NonPagedPoolNx (or compile with POOL_NX_OPTIN_AUTO=1), non-executable ' +
      'page protections and MdlMappingNoExecute; replace the always-executable DDIs with MmMapIoSpaceEx ' +
      '(PAGE_READWRITE | PAGE_NOCACHE), MmAllocateContiguousNodeMemory (PAGE_READWRITE) and ' +
      'MmMapLockedPagesSpecifyCache (MdlMappingNoExecute).',
    reference: 'Implement HVCI compatible code: the list of DDIs that may be impacted; Warning table: Execute Pool Type, Execute Page Protection, Execute Page Mapping',
    securitySeverity: 2.0,
    message: 'imports {count} DDI(s) that can hand out executable memory: always executable: {always}; executable depending on arguments: {conditional}',
  },
  check(image) {
    const always: string[] = [];
    const conditional: string[] = [];
    let offset: number | undefined;
    for (const m of image.imports) {
      for (const f of m.functions) {
        if (f.name === undefined || !AFFECTED_DDIS.has(f.name)) continue;
        offset ??= m.descriptorOffset;
        (ALWAYS_EXECUTABLE_DDIS.has(f.name) ? always : conditional).push(f.name);
      }
    }
    if (always.length + conditional.length === 0) return [];
    always.sort();
    conditional.sort();
    return [
      {
        ...(offset !== undefined ? { offset, length: 20 } : {}),
        args: {
          count: always.length + conditional.length,
          always: always.length ? always.join(', ') : 'none',
          conditional: conditional.length ? conditional.join(', ') : 'none',
          ddis: [...always, ...conditional],
        },
      },
    ];
  },
};
