import { escapeControls } from '../escape.js';
import { displayPath } from './paths.js';
import type { CheckReport, ReportOptions } from './types.js';

/**
 * The text report's lines for a triaged report (src/baseline/triage.ts): each suppressed
 * finding with its justification, each fixed one, each suppression that matched nothing.
 * Findings the baseline still holds are counted in the summary, not listed: on a legacy
 * driver they are the many lines nobody is about to act on.
 */
export function triageLines(report: CheckReport, options: ReportOptions, dim: (s: string) => string): string[] {
  const t = report.triage;
  if (!t) return [];
  const path = (p: string): string => escapeControls(displayPath(p, options.cwd));
  const lines: string[] = [];
  for (const s of t.suppressed) {
    lines.push(`${path(s.path)}: suppressed ${dim(s.finding.rule)}: ${escapeControls(s.finding.message)} (${s.by}: ${escapeControls(s.justification)})`);
  }
  for (const f of t.fixed) {
    lines.push(`${path(f.path)}: fixed ${dim(f.rule)}: ${escapeControls(f.message)} (in the baseline, no longer found)`);
  }
  for (const u of t.unusedSuppressions) {
    lines.push(`${path(u.file)}: note: ${u.by} (${escapeControls(u.what)}) matches no finding: remove it`);
  }
  if (lines.length > 0) lines.push('');
  return lines;
}

/** The summary's counts for a triaged report. */
export function triageCounts(report: CheckReport): string[] {
  const t = report.triage;
  if (!t) return [];
  const parts: string[] = [];
  if (t.baseline !== undefined) parts.push(`${t.unchanged.length} in the baseline`, `${t.fixed.length} fixed`);
  if (t.suppressing) parts.push(`${t.suppressed.length} suppressed`);
  return parts;
}
