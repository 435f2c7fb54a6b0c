import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isSpecialFile, removeQuietly, writeAtomically, writeOutputFile } from '../files/write-atomically.js';
import { lockOutput } from '../link/output-lock.js';
import { failure, type StepResults } from '../problems.js';
import { displayPath } from '../report/paths.js';
import { renderStepResults } from '../report/with-problems.js';
import { writingFile } from './errors.js';
import { reportsResults, type WrapperOptions } from './wrapper-options.js';

/** How long an interrupted step still waits for the shared report's lock. */
const REPORT_LOCK_GRACE_MS = 2000;

/** What the report file was made from, kept beside it: every step's last results. */
interface ReportSteps {
  version: 1;
  /** The directory paths are shown relative to: the first writer's, so every rewrite agrees. */
  cwd: string;
  steps: Record<string, StepResults>;
}

/** The hidden file beside a report that holds its steps' results as data. */
export function stepsFileOf(report: string): string {
  return join(dirname(report), `.${basename(report)}.hvci-steps.json`);
}

/**
 * Puts one step's results into the report: the file named by --report or HVCI_REPORT, which
 * every link, compile and build of one build shares, or stdout. `key` names the step (an
 * image, a compile, a build command); its previous results are replaced, or removed when
 * `results` is undefined. The file is rewritten whole from the steps' results, kept as data
 * beside it, under a lock (parallel links of make -j or ninja), and atomically: a reader
 * never sees half a report, and no step's results are lost to another's.
 */
export async function publishResults(key: string, results: StepResults | undefined, options: WrapperOptions, cwd: string): Promise<void> {
  const file = options.report;
  const render = (all: readonly StepResults[], shownFrom: string): Promise<string> =>
    renderStepResults(all, options.format, { cwd: shownFrom, color: false, includeNotes: options.includeNotes, errorsOnly: options.quiet === true });
  if (!file) {
    // No file: the findings go to stdout, text to stderr (the build log), where the caller put them.
    if (results && options.format !== 'text' && (results.files.length > 0 || results.problems.length > 0)) {
      process.stdout.write(await render([results], cwd));
    }
    return;
  }
  const path = resolve(cwd, file);
  if (isSpecialFile(path)) {
    // /dev/stdout, a pipe: nothing to merge with.
    if (!results) return;
    const text = await render([results], cwd);
    writingFile(file, () => writeOutputFile(file, text));
    return;
  }
  // A step with nothing to remove (a compile that passed) looks without taking the lock.
  if (!results && !readSteps(path, stepsFileOf(path))?.steps[key]) return;
  writingFile(file, () => mkdirSync(dirname(path), { recursive: true }));
  // Interrupted steps (Ctrl-C under make -j) still publish under the lock: another step
  // holds it for milliseconds, and writing beside it could lose a step's results.
  const lock = await lockOutput(
    path,
    (holder) => {
      if (options.verbose) process.stderr.write(`hvci-build: note: waiting for another step writing ${displayPath(path, cwd)} (${holder})\n`);
    },
    { signalGraceMs: REPORT_LOCK_GRACE_MS },
  );
  try {
    const stepsFile = stepsFileOf(path);
    const previous = readSteps(path, stepsFile);
    // Nothing of this step to remove: a report is not made, or rewritten, for nothing.
    if (!results && !previous?.steps[key]) return;
    const state: ReportSteps = previous ?? { version: 1, cwd, steps: {} };
    if (results) state.steps[key] = results;
    else delete state.steps[key];
    const ordered = Object.keys(state.steps)
      .sort()
      .map((k) => state.steps[k]!);
    const text = await render(ordered, state.cwd);
    // The report first: when it cannot be written, the steps behind the old one stay as they were.
    writingFile(file, () => writeOutputFile(path, text));
    try {
      writingFile(stepsFile, () => writeAtomically(stepsFile, JSON.stringify(state)));
    } catch (err) {
      // A report the steps do not match would lose this step's results at the next merge.
      removeQuietly(path);
      throw err;
    }
  } finally {
    lock?.release();
  }
}

/** The steps behind an existing report; none when the report is gone (start afresh) or the file is not ours. */
function readSteps(report: string, stepsFile: string): ReportSteps | undefined {
  try {
    statSync(report);
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(readFileSync(stepsFile, 'utf8')) as ReportSteps;
    if (s.version === 1 && typeof s.cwd === 'string' && typeof s.steps === 'object' && s.steps !== null) return s;
  } catch {
    // none, or damaged: the report is rewritten from this step alone
  }
  return undefined;
}

/**
 * Runs a step; when it stops with an error (a missing tool, a bad response file, a broken
 * config, a bug), its results in the report become that error first, so the report does not
 * keep an earlier run's verdict. The error is then reported as it would be without a report.
 */
export async function reportingStops<T>(key: () => string, options: WrapperOptions, cwd: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    // A failed build step is the caller's to report, with the tool's message.
    if (reportsResults(options) && !(err instanceof Error && err.name === 'StepError')) {
      const message = err instanceof Error ? err.message : String(err);
      // Failing to write the report too must not hide why the step stopped.
      await publishResults(key(), { files: [], problems: [failure('could-not-run', { message })] }, options, cwd).catch(() => undefined);
    }
    throw err;
  }
}
