import type { LinkOutcome } from '../link/run-link.js';
import { linkResults } from '../link/link-results.js';
import { displayPath } from '../report/paths.js';
import { wantsColor } from '../report/render.js';
import { renderStepResults, shownFiles } from '../report/with-problems.js';
import { publishResults } from './shared-report.js';
import type { WrapperOptions } from './wrapper-options.js';

/**
 * Prints what a link did: refusals, notices (config relaxations always, the
 * rest with --verbose), and the validation findings in the chosen format
 * (text on stderr with the linker's own messages; notes only with --include-notes); then puts
 * its results (findings, refusals, a failed link) into the report: the --report file, which
 * the links of one build share, or stdout for the other formats.
 */
export async function printLinkOutcome(outcome: LinkOutcome, options: WrapperOptions, cwd: string, prefix = 'hvci-build link'): Promise<void> {
  for (const n of outcome.notices) {
    if (options.verbose || n.startsWith('allowed by config')) process.stderr.write(`${prefix}: note: ${n}\n`);
  }
  printLinkLog(outcome, cwd, prefix);
  // Text goes to the build log, beside the linker's messages; refusals and failures are above.
  const quiet = options.quiet === true;
  if (options.format === 'text' && !options.report && outcome.result && shownFiles([outcome.result], 'text', options.includeNotes, quiet)[0]!.findings.length > 0) {
    const color = options.color ?? wantsColor(process.stderr);
    process.stderr.write(await renderStepResults([{ files: [outcome.result], problems: [] }], 'text', { cwd, color, includeNotes: options.includeNotes, errorsOnly: quiet }));
  }
  if (outcome.rejected && outcome.output) {
    const where = outcome.rejectedTo ? `moved to ${displayPath(outcome.rejectedTo, cwd)}` : 'deleted';
    process.stderr.write(`${prefix}: ${displayPath(outcome.output, cwd)} fails memory integrity checks; ${where}\n`);
  }
  const results = linkResults(outcome);
  if (results) await publishResults(linkKey(outcome.output, cwd), results, options, cwd);
}

/** The report's key for a link: its image, or where it ran while the image is not known. */
export function linkKey(output: string | undefined, cwd: string): string {
  return output ?? `link in ${cwd}`;
}

/** The lines of the build log: refusals, a failed or interrupted link, a missing image. */
function printLinkLog(outcome: LinkOutcome, cwd: string, prefix: string): void {
  for (const p of outcome.refused) {
    const from = p.location ? ` (from ${displayPath(p.location.file, cwd)}${p.location.line !== undefined ? `:${p.location.line}` : ''}${p.location.key ? `, ${p.location.key}` : ''})` : '';
    process.stderr.write(`${prefix}: error: ${p.message}${p.rule ? ` (rule ${p.rule})` : ''}${from}\n`);
  }
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
}

/** The note printed when another link of the same output holds its lock. */
export function waitNotice(prefix: string, cwd: string): (output: string, holder: string) => void {
  return (output, holder) => process.stderr.write(`${prefix}: note: waiting for another link of ${displayPath(output, cwd)} (${holder}) to finish\n`);
}
