import type { Rule } from './types.js';

/**
 * Reported by the engine when part of an image is not checked: the Windows
 * loader ignores it (a relocation directory in a RELOCS_STRIPPED image), the
 * call-site analysis stopped at its work limit, the import descriptors name
 * more imports than the file can hold, or a rule had more findings than a
 * report lists (src/findings-cap.ts).
 */
export const skippedCheck: Rule = {
  meta: {
    id: 'skipped-check',
    name: 'PartialCheck',
    defaultSeverity: 'note',
    summary: 'Part of the image was not checked (the loader ignores it, its machine is not supported, or the analysis reached its limit).',
    explanation:
      'Some fields are ignored by the Windows loader, for example the relocation directory of an ' +
      'image marked RELOCS_STRIPPED. Such an image loads, so it is not malformed, but what the ' +
      'ignored field describes was not checked. An image for a machine hvci-build does not ' +
      'support (IA-64, for one) is read for its headers and sections only. The note also stands ' +
      'for what a limit cut short: import descriptors naming more imports than the file can hold, ' +
      'a call-site analysis past its work limit, or findings of one rule past the first 100 of a ' +
      'file (they are counted, not listed).',
    fix: 'Nothing to fix for memory integrity; the note says what was skipped.',
    reference: 'PE format specification',
    securitySeverity: 0.5,
    undecided: true,
    message: '{what}',
    messages: {
      'relocs-stripped':
        'relocation directory (RVA {rva}, {size} bytes) not checked: the image is marked RELOCS_STRIPPED, so the loader ignores it',
      machine:
        'machine {machine} ({code}) is not supported: its base relocations and code were not checked (hvci-build checks x64, x86, ARM64 and ARM images)',
      'imports-budget':
        'imports of import descriptors {first} to {last} (of {last}) not checked: the descriptors name more imports than a {fileSize}-byte image can hold ({thunks} thunks), so their lookup tables are shared or overlap',
      'callsite-budget':
        'call-site analysis stopped at its work limit ({limit} instructions, a limit for hostile images); calls from RVA {rva} on were not checked',
      'callsite-machine': 'calls in {machine} code are not analysed: the calls to {ddis} were not checked',
      'callsite-no-file-data':
        'section {section} is executable but holds no data in the file (code made at run time, as packers do): calls in it to {ddis} were not checked',
      'findings-cap': 'only the first {shown} of {total} {rule} findings are listed; the other {rest} were counted, not listed',
      'pdb-mismatch': 'the PDB {pdb} belongs to another build ({detail}): it was not used, so findings carry no source lines',
      'pdb-container': 'the PDB {pdb} is damaged ({detail}): it was not used, so findings carry no source lines',
      'pdb-stream': 'the PDB {pdb} is damaged ({detail}): it was not used, so findings carry no source lines',
      'pdb-partial': 'the PDB {pdb} is damaged in part ({detail}): findings in that part carry no source lines',
      'name-not-utf8':
        'the file name is not valid UTF-8 (shown with its other bytes as \\xNN); the file was checked, but no PDB or map file next to it was looked for',
    },
  },
};
