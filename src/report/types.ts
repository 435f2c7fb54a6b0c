import type { FileResult } from '../findings.js';

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
