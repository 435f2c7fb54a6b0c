import type { StepResults } from '../problems.js';
import type { LinkOutcome } from './run-link.js';

/**
 * What a link leaves in a report: the image's findings, the refused flags (one from the
 * command line is shown at the image it would have made), a failed link. Undefined for a
 * librarian run (lld-link /lib), which makes no image.
 */
export function linkResults(outcome: LinkOutcome): StepResults | undefined {
  const at = outcome.output ? { file: outcome.output } : undefined;
  const refused = outcome.refused.map((p) => (p.location || !at ? p : { ...p, location: at }));
  const problems = [...refused, ...(outcome.failure ? [outcome.failure] : [])];
  const files = outcome.result ? [outcome.result] : [];
  if (problems.length === 0 && files.length === 0) return undefined;
  return { files, problems };
}
