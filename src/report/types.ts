import type { FileResult, Finding, Severity } from '../findings.js';

export interface Summary {
  files: number;
  errors: number;
  warnings: number;
  notes: number;
  /** Files that could not be checked: malformed or unreadable. */
  unchecked: number;
  /** `*.rejected` images (set aside by the wrappers) that directory and glob searches skipped. */
  skippedRejected: number;
}

/** What the searches of a check found beyond the files: inputs that found nothing, images skipped. */
export interface SearchOutcome {
  /** Directories and globs that found no file to check, as given. */
  empty: readonly { input: string; kind: 'glob' | 'directory' }[];
  /** The `*.rejected` files skipped. */
  rejected: readonly string[];
}

export interface CheckReport {
  files: FileResult[];
  summary: Summary;
  /** Present for a check of paths and globs (checkFiles). */
  search?: SearchOutcome;
  /** Present when a baseline or suppressions were applied (src/baseline/triage.ts). */
  triage?: Triage;
}

/**
 * What a baseline and the config's suppressions made of the findings. `files` then holds only
 * the findings that count (new ones, when there is a baseline); the rest are listed here.
 */
export interface Triage {
  /** The baseline file compared against, if any. */
  baseline?: string;
  /** Findings the baseline holds: still there, not failing the run. */
  unchanged: PlacedFinding[];
  /** Findings the baseline holds that this run did not find. */
  fixed: FixedFinding[];
  suppressed: SuppressedFinding[];
  /** Suppressions that matched no finding, to be removed. */
  unusedSuppressions: UnusedSuppression[];
  /** Suppressions are configured: SARIF then gives every result a `suppressions` array, as SARIF 2.1.0 asks. */
  suppressing: boolean;
}

export type BaselineState = 'new' | 'unchanged';

export interface PlacedFinding {
  path: string;
  finding: Finding;
}

export interface SuppressedFinding extends PlacedFinding {
  justification: string;
  /** Which suppression, as the config names it (`suppress[0]`). */
  by: string;
  /** With a baseline: whether it holds this finding. */
  baselineState?: BaselineState;
}

/** A finding of the baseline, as recorded; `path` is resolved against the baseline's directory. */
export interface FixedFinding {
  path: string;
  /** Its key (../fingerprint.ts), so SARIF gives it the fingerprint it had when found. */
  key: string;
  rule: string;
  severity: Severity;
  message: string;
  section?: string;
  function?: string;
}

export interface UnusedSuppression {
  /** The config file. */
  file: string;
  /** The entry, as `suppress[2]`. */
  by: string;
  /** What it matches, as `rule exec-pool-type, path build/drv.sys`. */
  what: string;
  justification: string;
}

export interface ReportOptions {
  /** Paths in the report are shown relative to this directory. */
  cwd: string;
  /** ANSI colours (text format only). */
  color: boolean;
  /** hvci-build's version, for SARIF's tool.driver. */
  toolVersion: string;
  /**
   * Notes as GitHub annotations and SARIF results. Off by default: code scanning opens an
   * alert for every SARIF result whatever its level or kind, and every clean driver has notes.
   */
  includeNotes?: boolean;
}

/** A reporter turns a report into the text of one output format. */
export type Reporter = (report: CheckReport, options: ReportOptions) => string;
