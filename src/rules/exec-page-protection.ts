import { callSiteRule, hexValue, type Verdict } from './call-site-rule.js';
import { targetsOf } from './ddis.js';
import type { Rule } from './types.js';

/*
 * Constants, from Microsoft's "Memory Protection Constants" and the MmMapIoSpaceEx page:
 * PAGE_NOACCESS 0x01, PAGE_READONLY 0x02, PAGE_READWRITE 0x04, PAGE_WRITECOPY 0x08,
 * PAGE_EXECUTE 0x10, PAGE_EXECUTE_READ 0x20, PAGE_EXECUTE_READWRITE 0x40,
 * PAGE_EXECUTE_WRITECOPY 0x80; modifiers PAGE_GUARD 0x100, PAGE_NOCACHE 0x200,
 * PAGE_WRITECOMBINE 0x400. Any of the four PAGE_EXECUTE* bits makes the memory executable.
 *
 * Parameters (zero-based), from the DDI reference pages: ZwAllocateVirtualMemory Protect (5),
 * ZwProtectVirtualMemory NewProtect (3), MmMapIoSpaceEx Protect (2; on x86 the 64-bit
 * PHYSICAL_ADDRESS takes two stack slots, so slot 3), ZwMapViewOfSection and
 * NtMapViewOfSection Win32Protect (9), ZwCreateSection and NtCreateSection
 * SectionPageProtection (4), MmProtectMdlSystemAddress NewProtect (1).
 */
const EXECUTE_BITS: readonly [bigint, string][] = [
  [0x10n, 'PAGE_EXECUTE'],
  [0x20n, 'PAGE_EXECUTE_READ'],
  [0x40n, 'PAGE_EXECUTE_READWRITE'],
  [0x80n, 'PAGE_EXECUTE_WRITECOPY'],
];
/** ZwCreateSection AllocationAttributes: the section maps an image file (wdm.h). */
const SEC_IMAGE = 0x1000000n;

const MODIFIERS: readonly [bigint, string][] = [
  [0x100n, 'PAGE_GUARD'],
  [0x200n, 'PAGE_NOCACHE'],
  [0x400n, 'PAGE_WRITECOMBINE'],
];

/** The names of an executable protection's bits ("PAGE_EXECUTE_READWRITE | PAGE_NOCACHE"), or undefined. */
export function executableProtection(value: bigint): string | undefined {
  const exec = EXECUTE_BITS.filter(([b]) => value & b);
  if (exec.length === 0) return undefined;
  return [...exec, ...MODIFIERS.filter(([b]) => value & b)].map(([, n]) => n).join(' | ');
}

export const execPageProtection: Rule = callSiteRule(
  {
    id: 'exec-page-protection',
    name: 'NoExecutablePageProtection',
    defaultSeverity: 'error',
    summary: 'A call in the code asks for an executable page protection (PAGE_EXECUTE*).',
    explanation:
      'With memory integrity on, kernel memory becomes executable only through a Code Integrity ' +
      'check, and executable pages are never writable. A constant PAGE_EXECUTE* (0x10, 0x20, 0x40, ' +
      '0x80) passed to ZwAllocateVirtualMemory, ZwProtectVirtualMemory, MmMapIoSpaceEx, ' +
      'MmAllocateContiguousNodeMemory, ZwMapViewOfSection, ZwCreateSection (or their Nt forms) or ' +
      'MmProtectMdlSystemAddress asks for executable memory. Driver Verifier reports it as "Execute ' +
      'Page Protection" (bug check 0xC4, 0x2001) only when the call runs. Where the documentation ' +
      'leaves a choice: ZwCreateSection with SEC_IMAGE takes the protection from the image\'s section ' +
      'headers, so it is not judged (a note when the attributes are not a constant); calls on a user ' +
      'process are judged too, since the analysis cannot tell the process handle and the guidance asks ' +
      'for no-execute memory unless executable memory is explicitly required.',
    fix:
      'Specify a "no execute" page protection: PAGE_READWRITE or PAGE_READONLY, with PAGE_NOCACHE or ' +
      'PAGE_WRITECOMBINE where needed (MmMapIoSpaceEx(..., PAGE_READWRITE | PAGE_NOCACHE) for device ' +
      'registers). Do not generate or load code at run time.',
    reference:
      'Implement HVCI compatible code: "Does not use dynamic code in kernel"; Warning table: Execute Page Protection; Memory Protection Constants; MmMapIoSpaceEx',
    securitySeverity: 8.0,
    message: '{ddi} asks for executable memory: {param} is {value} ({meaning}) (call at {site})',
    messages: {
      'maybe-image':
        '{ddi} asks for executable memory unless its AllocationAttributes (not a constant) hold SEC_IMAGE: {param} is {value} ({meaning}) (call at {site})',
    },
  },
  targetsOf('exec-page-protection'),
  (s): Verdict | undefined => {
    if (!s.param || !s.arg?.known) return undefined;
    const meaning = executableProtection(s.arg.value);
    if (meaning === undefined) return undefined;
    const verdict = { param: s.param.name, value: hexValue(s.arg.value), meaning };
    if (!s.also) return verdict;
    // ZwCreateSection: with SEC_IMAGE the image's headers decide; unknown attributes may hold it.
    if (s.also.arg.known) return s.also.arg.value & SEC_IMAGE ? undefined : verdict;
    return { ...verdict, messageId: 'maybe-image', severity: 'note' };
  },
);
