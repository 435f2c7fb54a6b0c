import type { CallSiteAnalysis, CallTarget } from '../callsites/types.js';
import type { ArgValue, Severity, SourceLocation } from '../findings.js';
import type { PeImage } from '../pe/image.js';
import type { ImageSymbols } from '../symbols/index.js';

export interface RuleMeta {
  /** Stable id used in configs, output and SARIF. Never renamed. */
  id: string;
  /** PascalCase name, as SARIF and BinSkim name rules. */
  name: string;
  defaultSeverity: Severity;
  /** One line: what the rule checks. */
  summary: string;
  /** Why it matters, from Microsoft's HVCI guidance. */
  explanation: string;
  /** How to fix it. */
  fix: string;
  /** Where the guidance says so. */
  reference: string;
  /** 0.0 to 10.0, for GitHub code scanning's severity levels. */
  securitySeverity: number;
  /** Wording of a finding, with {arg} placeholders. */
  message: string;
  /** Other wordings, chosen by a detection's `messageId` (as ESLint's meta.messages). */
  messages?: Readonly<Record<string, string>>;
  /**
   * Its findings say the check could not decide something (a value it cannot follow, a part
   * it did not read). Shown in every format even as notes, where other notes need
   * --include-notes: a gate that hides them looks like a pass.
   */
  undecided?: boolean;
}

/** Analyses of the code that rules may need; the engine runs one only when an enabled rule needs it. */
export type Analysis = 'callsites';

export interface RuleContext {
  /** Lowest Windows build the driver targets, when configured. */
  minWindowsBuild: number | undefined;
  /** The call-site analysis, when a rule that needs it is enabled and it ran. */
  callSites: CallSiteAnalysis | undefined;
  /** The image's PDB or map file, read on first use; undefined for an image given as bytes. */
  symbols: ImageSymbols | undefined;
}

/** What a rule reports; the engine adds the id, the final severity and the message text. */
export interface Detection {
  args: Record<string, ArgValue>;
  section?: string;
  rva?: number;
  offset?: number;
  length?: number;
  /** File and line of the code or data at fault, when the PDB has them. */
  source?: SourceLocation;
  /** A rule may lower its own default for this finding (see straddling-reloc). */
  defaultSeverity?: Severity;
  /** Which of the rule's `meta.messages` words this finding; `meta.message` when absent. */
  messageId?: string;
}

export interface Rule {
  meta: RuleMeta;
  /** The analyses the rule reads from its context. */
  needs?: readonly Analysis[];
  /** Call-site rules: the DDIs the analysis must look for, with their deciding parameter. */
  targets?: readonly CallTarget[];
  /** Absent for the rules the engine itself reports (malformed, unreadable, skipped-check). */
  check?: (image: PeImage, ctx: RuleContext) => Detection[];
}
