import { UNCHECKED_RULES, type FileResult } from '../findings.js';
import type { CheckReport, SearchOutcome, Summary } from './types.js';

export function summarize(files: readonly FileResult[], search?: SearchOutcome): Summary {
  const s: Summary = { files: files.length, errors: 0, warnings: 0, notes: 0, unchecked: 0, skippedRejected: search?.rejected.length ?? 0 };
  for (const f of files) {
    if (f.findings.some((x) => UNCHECKED_RULES.has(x.rule))) s.unchecked++;
    for (const x of f.findings) {
      if (x.severity === 'error') s.errors++;
      else if (x.severity === 'warning') s.warnings++;
      else s.notes++;
    }
  }
  return s;
}

export function makeReport(files: FileResult[], search?: SearchOutcome): CheckReport {
  return { files, summary: summarize(files, search), ...(search ? { search } : {}) };
}

/** 0: no error; 1: an error-level finding; 2: a file could not be read or is malformed. */
export function exitCodeFor(report: CheckReport): 0 | 1 | 2 {
  if (report.summary.unchecked > 0) return 2;
  return report.summary.errors > 0 ? 1 : 0;
}
