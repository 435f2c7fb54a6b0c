import { DDI_BY_NAME } from './ddis.js';
import type { Rule } from './types.js';

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
    // Sets: a name imported twice (two descriptors of one DLL) is listed once.
    const alwaysSet = new Set<string>();
    const conditionalSet = new Set<string>();
    let offset: number | undefined;
    for (const m of image.imports) {
      for (const f of m.functions) {
        const entry = f.name === undefined ? undefined : DDI_BY_NAME.get(f.name);
        if (!entry) continue;
        offset ??= m.descriptorOffset;
        (entry.always ? alwaysSet : conditionalSet).add(entry.ddi);
      }
    }
    const always = [...alwaysSet].sort();
    const conditional = [...conditionalSet].sort();
    if (always.length + conditional.length === 0) return [];
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
