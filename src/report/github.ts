import type { Severity } from '../findings.js';
import { escapeControls } from '../escape.js';
import { quietNote } from '../rules/index.js';
import { displayPath } from './paths.js';
import type { Reporter } from './types.js';

/**
 * GitHub Actions workflow commands, one per finding:
 * `::error file=drivers/foo.sys,title=hvci-build wx-section::section .data is ...`
 * GitHub turns each into an annotation on the file. Nothing else is printed. Notes only
 * with `includeNotes`: every clean driver has one (affected-ddi-import), and an annotation
 * on each would bury the warnings.
 */

const COMMANDS: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

/** Escapes a command's message as @actions/core does (escapeData). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a command property value as @actions/core does (escapeProperty). */
export function escapeProperty(s: string): string {
  return s
    .replace(/%/g, '%25')
    .replace(/\r/g, '%0D')
    .replace(/\n/g, '%0A')
    .replace(/:/g, '%3A')
    .replace(/,/g, '%2C');
}

export const githubReporter: Reporter = (report, options) => {
  const lines: string[] = [];
  for (const file of report.files) {
    if (file.findings.length === 0) continue;
    // escapeData/escapeProperty encode CR and LF as the runner expects; other control
    // characters (an escape sequence in a section name) would reach the log viewer as they are.
    const path = escapeControls(displayPath(file.path, options.cwd), true);
    for (const f of file.findings) {
      if (quietNote(f, options.includeNotes)) continue;
      const props = `file=${escapeProperty(path)},title=${escapeProperty(`hvci-build ${f.rule}`)}`;
      lines.push(`::${COMMANDS[f.severity]} ${props}::${escapeData(escapeControls(f.message, true))}`);
    }
  }
  // A suppression that matches nothing is a note: an annotation on the config only when asked for.
  for (const u of options.includeNotes ? (report.triage?.unusedSuppressions ?? []) : []) {
    const props = `file=${escapeProperty(escapeControls(displayPath(u.file, options.cwd), true))},title=${escapeProperty('hvci-build unused suppression')}`;
    lines.push(`::notice ${props}::${escapeData(escapeControls(`${u.by} (${u.what}) matches no finding: remove it`, true))}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
};
