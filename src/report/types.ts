import type { FileResult } from '../findings.js';

export interface Summary {
  files: number;
  errors: number;
  warnings: number;
  notes: number;
  /** Files that could not be checked: malformed or unreadable. */
  unchecked: number;
}

export interface CheckReport {
  files: FileResult[];
  summary: Summary;
}

export interface ReportOptions {
  /** Paths in the report are shown relative to this directory. */
  cwd: string;
  /** ANSI colours (text format only). */
  color: boolean;
  /** hvci-build's version, for SARIF's tool.driver. */
  toolVersion: string;
}

/** A reporter turns a report into the text of one output format. */
export type Reporter = (report: CheckReport, options: ReportOptions) => string;
