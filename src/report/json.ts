import type { Finding } from '../findings.js';
import { displayPath } from './paths.js';
import type { CheckReport, Reporter, ReportOptions } from './types.js';

/** Version of the JSON document's shape; bumped on any incompatible change. */
export const JSON_REPORT_VERSION = 1;

/**
 * `{ version, files: [{ path, findings: [{ rule, severity, message, section?,
 * rva?, offset?, length?, args }] }], summary }`, and with a baseline or suppressions
 * `baseline`, `suppressed` and `unusedSuppressions`; documented in README.md.
 */
export const jsonReporter: Reporter = (report, options) => {
  const state = report.triage?.baseline !== undefined ? { baselineState: 'new' } : {};
  const doc = {
    version: JSON_REPORT_VERSION,
    files: report.files.map((file) => ({
      path: displayPath(file.path, options.cwd),
      findings: file.findings.map((f) => ({ ...findingJson(f), ...state })),
    })),
    summary: report.summary,
    ...triageJson(report, options),
  };
  return JSON.stringify(doc, null, 2) + '\n';
};

function findingJson(f: Finding): Record<string, unknown> {
  return {
    rule: f.rule,
    severity: f.severity,
    message: f.message,
    ...(f.section !== undefined ? { section: f.section } : {}),
    ...(f.rva !== undefined ? { rva: f.rva } : {}),
    ...(f.offset !== undefined ? { offset: f.offset } : {}),
    ...(f.length !== undefined ? { length: f.length } : {}),
    args: f.args,
  };
}

/** The baseline's unchanged and fixed findings, the suppressed ones and the unused suppressions. */
function triageJson(report: CheckReport, options: ReportOptions): Record<string, unknown> {
  const t = report.triage;
  if (!t) return {};
  const path = (p: string): string => displayPath(p, options.cwd);
  return {
    ...(t.baseline !== undefined
      ? {
          baseline: {
            file: path(t.baseline),
            unchanged: t.unchanged.map((u) => ({ path: path(u.path), ...findingJson(u.finding) })),
            fixed: t.fixed.map((f) => ({ ...f, path: path(f.path) })),
          },
        }
      : {}),
    suppressed: t.suppressed.map((s) => ({
      path: path(s.path),
      ...findingJson(s.finding),
      justification: s.justification,
      suppression: s.by,
      ...(s.baselineState ? { baselineState: s.baselineState } : {}),
    })),
    unusedSuppressions: t.unusedSuppressions.map((u) => ({ file: path(u.file), suppression: u.by, matches: u.what, justification: u.justification })),
  };
}
