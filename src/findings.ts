/** Findings are data: a rule id, a severity, where, and the arguments of its message. */

export type Severity = 'error' | 'warning' | 'note';
export type SeveritySetting = Severity | 'off';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

export type ArgValue = string | number | boolean | readonly string[];

/** Where in the source a finding's code or data came from, when the image's PDB says. */
export interface SourceLocation {
  /** As the PDB records it, after the path map: absolute, or relative to the working directory. */
  file: string;
  line: number;
  column?: number;
  function?: string;
  /** The object file that holds the code. */
  object?: string;
  /** Code of an inlined function (file, line and function above are its own): the call that inlined it. */
  inlinedAt?: { file: string; line: number; function?: string };
}

export interface Finding {
  rule: string;
  severity: Severity;
  /** The rule's message with its arguments filled in. */
  message: string;
  /** Section name, when the finding is about one section or something inside it. */
  section?: string;
  /** RVA of what the finding is about (section start, relocation target, IAT start). */
  rva?: number;
  /** File offset and length of the header field or table entry at fault. */
  offset?: number;
  length?: number;
  /** File and line of the code at fault, from the PDB (only with symbols). */
  source?: SourceLocation;
  args: Record<string, ArgValue>;
}

export interface FileResult {
  path: string;
  findings: Finding[];
}

export function severityRank(s: Severity): number {
  return s === 'error' ? 2 : s === 'warning' ? 1 : 0;
}

/** Rules whose finding means the file itself could not be checked: never suppressed or baselined. */
export const UNCHECKED_RULES: ReadonlySet<string> = new Set(['malformed', 'unreadable']);
