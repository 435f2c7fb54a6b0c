import { writeOutputFile } from '../files/write-atomically.js';
import type { LinkOutcome } from '../link/run-link.js';
import { displayPath } from '../report/paths.js';
import { renderReport, wantsColor } from '../report/render.js';
import { makeReport } from '../report/summary.js';
import { writingFile } from './errors.js';
import type { WrapperOptions } from './wrapper-options.js';

/**
 * Prints what a link did: refusals, notices (config relaxations always, the
 * rest with --verbose), and the validation findings in the chosen format
 * (text on stderr with the linker's own messages; notes only in file formats).
 */
export async function printLinkOutcome(outcome: LinkOutcome, options: WrapperOptions, cwd: string, prefix = 'hvci-build link'): Promise<void> {
  for (const n of outcome.notices) {
    if (options.verbose || n.startsWith('allowed by config')) process.stderr.write(`${prefix}: note: ${n}\n`);
  }
  for (const e of outcome.refused) process.stderr.write(`${prefix}: error: ${e}\n`);
  if (outcome.refused.length > 0) {
    process.stderr.write(`${prefix}: nothing was linked; see \`hvci-build explain <rule>\`, or allow it in the config (link.allowMerges / link.allowSections)\n`);
    return;
  }
  if (outcome.interrupted || outcome.setAside) {
    const out = outcome.output ? displayPath(outcome.output, cwd) : 'the image';
    const why = outcome.interrupted ? `interrupted by ${outcome.interrupted}` : `the link failed (exit code ${outcome.exitCode})`;
    const aside = outcome.setAside === 'deleted' ? 'deleted' : `moved to ${displayPath(outcome.setAside ?? '', cwd)}`;
    const where = !outcome.setAside ? '' : outcome.interrupted ? `; ${out} was not validated: ${aside}` : `; ${out} ${aside}, so it is not taken as up to date`;
    // A failed link's own messages say enough unless it left a file behind.
    if (outcome.interrupted || where) process.stderr.write(`${prefix}: ${why}${where}\n`);
    return;
  }
  if (outcome.missingOutput) {
    process.stderr.write(`${prefix}: error: the link succeeded but ${outcome.output ? displayPath(outcome.output, cwd) : 'its output'} is missing, so it was not checked; name the image with /out:\n`);
    return;
  }
  if (!outcome.result) return;
  const shown = { ...outcome.result, findings: outcome.result.findings.filter((f) => f.severity !== 'note' || options.format !== 'text') };
  if (shown.findings.length > 0 || options.report) {
    const text = await renderReport(makeReport([shown]), options.format, {
      cwd,
      color: options.format === 'text' && !options.report && wantsColor(process.stderr),
    });
    const report = options.report;
    if (report) writingFile(report, () => writeOutputFile(report, text));
    else if (shown.findings.length > 0) (options.format === 'text' ? process.stderr : process.stdout).write(text);
  }
  if (outcome.rejected && outcome.output) {
    const where = outcome.rejectedTo ? `moved to ${displayPath(outcome.rejectedTo, cwd)}` : 'deleted';
    process.stderr.write(`${prefix}: ${displayPath(outcome.output, cwd)} fails memory integrity checks; ${where}\n`);
  }
}

/** The note printed when another link of the same output holds its lock. */
export function waitNotice(prefix: string, cwd: string): (output: string, holder: string) => void {
  return (output, holder) => process.stderr.write(`${prefix}: note: waiting for another link of ${displayPath(output, cwd)} (${holder}) to finish\n`);
}
