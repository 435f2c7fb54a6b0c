import { affectedDdiImport } from './affected-ddi-import.js';
import { codeNotExecutable } from './code-not-executable.js';
import { execMdlMapping } from './exec-mdl-mapping.js';
import { execPageProtection } from './exec-page-protection.js';
import { execPoolType } from './exec-pool-type.js';
import { iatInExec } from './iat-in-exec.js';
import { initRwx } from './init-rwx.js';
import { malformedRule } from './malformed.js';
import { noPermissions } from './no-permissions.js';
import { nxCompat } from './nx-compat.js';
import { sectionAlignment } from './section-alignment.js';
import { skippedCheck } from './skipped-check.js';
import { straddlingReloc } from './straddling-reloc.js';
import type { Rule } from './types.js';
import { unknownPoolType } from './unknown-pool-type.js';
import { unreadable } from './unreadable.js';
import { writableCode } from './writable-code.js';
import { wxSection } from './wx-section.js';

/** Every rule, in the order findings are reported for one image. */
export const RULES: readonly Rule[] = [
  wxSection,
  initRwx,
  writableCode,
  codeNotExecutable,
  noPermissions,
  sectionAlignment,
  iatInExec,
  straddlingReloc,
  nxCompat,
  affectedDdiImport,
  execPoolType,
  execPageProtection,
  execMdlMapping,
  unknownPoolType,
  malformedRule,
  unreadable,
  skippedCheck,
];

export const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((r) => [r.meta.id, r]));

/** Whether a finding is left out of GitHub annotations and SARIF results: a note, unless asked for or undecided. */
export function quietNote(f: { rule: string; severity: string }, includeNotes: boolean | undefined): boolean {
  return f.severity === 'note' && !includeNotes && RULES_BY_ID.get(f.rule)?.meta.undecided !== true;
}

export type { Rule, RuleMeta, RuleContext, Detection } from './types.js';
