import { displayPath } from './paths.js';
import { shownSource } from './source.js';
import type { Reporter } from './types.js';

/** Version of the JSON document's shape; bumped on any incompatible change. */
export const JSON_REPORT_VERSION = 1;

/**
 * `{ version, files: [{ path, findings: [{ rule, severity, message, section?,
 * rva?, offset?, length?, source?, args }] }], summary }`; documented in README.md.
 */
export const jsonReporter: Reporter = (report, options) => {
  const doc = {
    version: JSON_REPORT_VERSION,
    files: report.files.map((file) => ({
      path: displayPath(file.path, options.cwd),
      findings: file.findings.map((f) => ({
        rule: f.rule,
        severity: f.severity,
        message: f.message,
        ...(f.section !== undefined ? { section: f.section } : {}),
        ...(f.rva !== undefined ? { rva: f.rva } : {}),
        ...(f.offset !== undefined ? { offset: f.offset } : {}),
        ...(f.length !== undefined ? { length: f.length } : {}),
        ...(f.source !== undefined ? { source: shownSource(f.source, options.cwd) } : {}),
        args: f.args,
      })),
    })),
    summary: report.summary,
  };
  return JSON.stringify(doc, null, 2) + '\n';
};
