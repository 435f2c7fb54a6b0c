/**
 * What the build wrappers (link, cc, build, run) report beside the findings of an image: a
 * flag they refused, or a step that failed. Data, like findings: a stable id, the arguments
 * of its message, and where it came from; the wording of failures is in FAILURES below, that
 * of refusals in link/refusals.ts.
 */
import { resolve } from 'node:path';
import { formatMessage } from './check-image.js';
import type { ArgValue, FileResult } from './findings.js';
import type { RuleMeta } from './rules/types.js';

/** Where a problem comes from: a config file and key, a response file, a source file. */
export interface ProblemLocation {
  /** Absolute path. */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** The config key that holds the flag (`build.ldflags[2]`). */
  key?: string;
}

export interface BuildProblem {
  /** A refused flag (nothing was linked), or a step that failed or could not run. */
  kind: 'refusal' | 'failure';
  /** Stable id: a refusal's (link/refusals.ts) or a failure's (FAILURES). */
  id: string;
  /** The image rule a refused flag would break, when there is one. */
  rule?: string;
  message: string;
  args: Record<string, ArgValue>;
  location?: ProblemLocation;
}

/** What one image (or one compile, or one build command) last left in a report. */
export interface StepResults {
  /** The image's validation: none, or one file. */
  files: FileResult[];
  problems: BuildProblem[];
}

/**
 * The rule a refusal is reported under when it breaks no image rule of its own: described as
 * the image rules are, so SARIF and `explain` word it the same way.
 */
export const REFUSED_FLAG_META: RuleMeta = {
  id: 'link-flag-refused',
  name: 'LinkFlagRefused',
  defaultSeverity: 'error',
  summary: 'A link flag that would break memory integrity was refused',
  explanation:
    "hvci-build link refused a flag (from the command line, a response file, the config or an object's .drectve section) that would make the driver image fail memory integrity checks; nothing was linked.",
  fix: 'Remove the flag, or allow it in the config (link.allowMerges, link.allowSections) if the image is known to pass.',
  reference: '-',
  securitySeverity: 7.0,
  message: '{message}',
};
export const REFUSED_FLAG_RULE = REFUSED_FLAG_META.id;

/** Each failure's wording, and its one-line summary (SARIF's notification descriptor). */
export const FAILURES = {
  'compile-failed': { message: '{tool} exited with code {exitCode} compiling {source}', summary: 'The compiler failed' },
  'link-failed': { message: '{tool} exited with code {exitCode} linking {image}', summary: 'The linker failed' },
  'lib-failed': { message: '{tool} exited with code {exitCode} making the import library from {def}', summary: 'An import library could not be made' },
  'output-missing': {
    message: 'the link succeeded but {image} is missing, so it was not checked; name the image with /out:',
    summary: 'The linked image is not where the command line puts it',
  },
  interrupted: { message: 'interrupted by {signal}: {image} was not validated', summary: 'The build was interrupted' },
  'command-failed': { message: 'the build command {command} exited with code {exitCode}', summary: 'The build command failed' },
  'could-not-run': { message: '{message}', summary: 'A step could not run' },
} as const;

export type FailureId = keyof typeof FAILURES;

/** A failure with its message; the first lines of the tool's output (`args.output`) end it. */
export function failure(id: FailureId, args: Record<string, ArgValue>, location?: ProblemLocation): BuildProblem {
  const output = typeof args.output === 'string' && args.output !== '' ? `:\n${args.output}` : '';
  return { kind: 'failure', id, message: formatMessage(FAILURES[id].message, args) + output, args, ...(location ? { location } : {}) };
}

const FIRST_LINES = 10;
const MAX_CHARS = 2000;

/**
 * The part of a tool's output a report keeps: from its first line that says error (warnings
 * before it are not why it failed), ten lines at most.
 */
export function firstLines(output: string): string {
  const lines = output.replace(/\r\n/g, '\n').split('\n').filter((l) => l.trim() !== '');
  const start = Math.max(0, lines.findIndex((l) => /\berror\b/i.test(l)));
  const kept = lines.slice(start, start + FIRST_LINES).join('\n');
  return kept.length > MAX_CHARS ? kept.slice(0, MAX_CHARS) + '…' : kept;
}

/** Where a compiler's first error points, in clang-cl's `file(line,col): error:` form. */
export function diagnosticLocation(text: string, cwd: string): ProblemLocation | undefined {
  const m = /^(.+?)\((\d+),\d+\): (?:fatal )?error\b/m.exec(text) ?? /^(.+?):(\d+):\d+: (?:fatal )?error\b/m.exec(text);
  return m ? { file: resolve(cwd, m[1]!), line: Number(m[2]) } : undefined;
}
