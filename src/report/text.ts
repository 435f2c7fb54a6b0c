import type { Severity } from '../findings.js';
import { escapeControls } from '../escape.js';
import { displayPath } from './paths.js';
import { triageCounts, triageLines } from './text-triage.js';
import type { Reporter } from './types.js';

const COLORS: Record<Severity, string> = { error: '\x1b[31m', warning: '\x1b[33m', note: '\x1b[36m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** Grouped per file, one `path: severity rule: message` line per finding, then a summary. */
export const textReporter: Reporter = (report, options) => {
  const paint = (code: string, s: string): string => (options.color ? code + s + RESET : s);
  const lines: string[] = [];
  for (const file of report.files) {
    if (file.findings.length === 0) continue;
    // Names from the input (file, section, DLL names) may hold newlines or escape codes.
    const path = escapeControls(displayPath(file.path, options.cwd));
    for (const f of file.findings) {
      lines.push(`${path}: ${paint(COLORS[f.severity], f.severity)} ${paint(DIM, f.rule)}: ${escapeControls(f.message)}`);
    }
    lines.push('');
  }
  lines.push(...triageLines(report, options, (x) => paint(DIM, x)));
  const s = report.summary;
  const clean = report.files.filter((f) => !f.findings.some((x) => x.severity !== "note")).length;
  const parts = [
    `${s.files} file${s.files === 1 ? '' : 's'} checked`,
    `${s.errors} error${s.errors === 1 ? '' : 's'}`,
    `${s.warnings} warning${s.warnings === 1 ? '' : 's'}`,
    `${s.notes} note${s.notes === 1 ? '' : 's'}`,
  ];
  if (s.unchecked > 0) parts.push(`${s.unchecked} could not be checked`);
  parts.push(`${clean} clean`, ...triageCounts(report));
  const summary = parts.join(', ');
  if (s.skippedRejected > 0) {
    const n = s.skippedRejected;
    lines.push(`skipped ${n} image${n === 1 ? '' : 's'} a wrapper rejected (*.rejected); name one on the command line to check it`);
  }
  lines.push(s.errors > 0 || s.unchecked > 0 ? paint(COLORS.error, summary) : summary);
  return lines.join('\n') + '\n';
};
