import { resolve } from 'node:path';
import { BaselineError, makeBaseline, readBaseline, serializeBaseline, type Baseline } from '../baseline/baseline-file.js';
import { escapeControls } from '../escape.js';
import type { FileResult } from '../findings.js';
import { writeOutputFile } from '../files/write-atomically.js';
import { UsageError, writingFile } from './errors.js';

/** Where `hvci-build baseline` writes when neither --write-baseline nor the config's `baseline` says. */
export const DEFAULT_BASELINE = 'hvci-baseline.json';

/** Reads a baseline file; a missing or broken one is a one-line usage error (exit 2). */
export function readBaselineFile(file: string): { file: string; data: Baseline } {
  try {
    return { file, data: readBaseline(file) };
  } catch (err) {
    if (err instanceof BaselineError) throw new UsageError(escapeControls(err.message));
    throw err;
  }
}

/** Writes the baseline of these findings (the library writes no files: the CLI does). */
export function writeBaselineFile(file: string, files: readonly FileResult[]): { file: string; data: Baseline } {
  const abs = resolve(file);
  const data = makeBaseline(files, abs);
  writingFile(file, () => writeOutputFile(file, serializeBaseline(data)));
  return { file: abs, data };
}
