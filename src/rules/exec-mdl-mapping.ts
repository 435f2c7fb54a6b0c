import { callSiteRule, hexValue, type Verdict } from './call-site-rule.js';
import { targetsOf } from './ddis.js';
import type { Rule } from './types.js';

/*
 * Constants, from Microsoft's documentation of MmGetSystemAddressForMdlSafe and
 * MM_PAGE_PRIORITY (wdm.h): LowPagePriority 0, NormalPagePriority 16, HighPagePriority 32;
 * "Starting with Windows 8, the specified priority value can be bitwise-ORed with the
 * MdlMappingNoWrite or MdlMappingNoExecute flags": MdlMappingNoWrite 0x80000000,
 * MdlMappingNoExecute 0x40000000. MmGetSystemAddressForMdlSafe is a macro that calls
 * MmMapLockedPagesSpecifyCache(Mdl, KernelMode, MmCached, NULL, FALSE, Priority): Priority
 * is parameter 5. MmMapLockedPages has no priority at all and always maps executable
 * (Code Analysis warning C30029 lists it with the always-executable DDIs).
 */
const MDL_MAPPING_NO_EXECUTE = 0x40000000n;

export const execMdlMapping: Rule = callSiteRule(
  {
    id: 'exec-mdl-mapping',
    name: 'NoExecutableMdlMapping',
    defaultSeverity: 'error',
    summary: 'A call in the code maps an MDL as executable memory (no MdlMappingNoExecute, or MmMapLockedPages).',
    explanation:
      'MmMapLockedPagesSpecifyCache, which MmGetSystemAddressForMdlSafe expands to, maps the pages ' +
      'executable unless its Priority argument includes MdlMappingNoExecute (0x40000000); ' +
      'MmMapLockedPages always maps them executable. Microsoft\'s guidance is to always specify ' +
      'no-execute memory unless executable memory is explicitly required, and memory integrity ' +
      'expects no writable memory to become executable. Driver Verifier reports such a call as ' +
      '"Execute Page Mapping" (bug check 0xC4, 0x2002) only when it runs. A mapping into user ' +
      'space (AccessMode UserMode) is judged the same way: MdlMappingNoExecute applies to it too, and ' +
      'the guidance asks for no-execute memory unless executable memory is explicitly required.',
    fix:
      'OR MdlMappingNoExecute into the priority: MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority | ' +
      'MdlMappingNoExecute). Replace MmMapLockedPages with MmMapLockedPagesSpecifyCache and ' +
      'MdlMappingNoExecute.',
    reference: 'Warning table: Execute Page Mapping; MmGetSystemAddressForMdlSafe; MM_PAGE_PRIORITY; C30029',
    securitySeverity: 7.5,
    message: '{ddi} maps memory executable: {param} {value} lacks MdlMappingNoExecute (0x40000000) (call at {site})',
    messages: {
      always: '{ddi} maps memory executable: it always maps executable, whatever the arguments (call at {site})',
    },
  },
  targetsOf('exec-mdl-mapping'),
  (s): Verdict | undefined => {
    if (!s.param) return { messageId: 'always' };
    if (!s.arg?.known || s.arg.value & MDL_MAPPING_NO_EXECUTE) return undefined;
    return { param: s.param.name, value: hexValue(s.arg.value) };
  },
);
