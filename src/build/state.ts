import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeAtomically } from '../files/write-atomically.js';
import { writingFile } from '../files/write-error.js';
import type { StepResults } from '../problems.js';
import { sha256 } from '../sha256.js';

/** What a step was built from: its command and the size and time of every input. */
export interface StepRecord {
  command: string;
  inputs: Record<string, string>;
}

export interface BuildState {
  version: 1;
  steps: Record<string, StepRecord>;
  /** Each image's last results (findings, refusals, a failed step), for a report when nothing is rebuilt. */
  results?: Record<string, StepResults>;
}

export function loadState(path: string): BuildState {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as BuildState;
    if (s.version === 1 && typeof s.steps === 'object') return s;
  } catch {
    // no state yet, or a damaged one: build everything
  }
  return { version: 1, steps: {} };
}

export function saveState(path: string, state: BuildState): void {
  mkdirSync(dirname(path), { recursive: true });
  // A build killed midway never leaves half a state file.
  writingFile(path, () => writeAtomically(path, JSON.stringify(state)));
}

export function commandKey(parts: readonly string[]): string {
  return sha256(parts).slice(0, 32);
}

/** Size and modification time: enough to notice an edit, and a stat is cheap. */
export function fileStamp(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.size}:${Math.round(s.mtimeMs)}`;
  } catch {
    return undefined;
  }
}

export function stampAll(paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = fileStamp(p) ?? 'missing';
  return out;
}

/** True when the step must run: no record, another command, a changed input, or a missing output. */
export function isStale(record: StepRecord | undefined, command: string, output: string): boolean {
  if (!record || record.command !== command || fileStamp(output) === undefined) return true;
  for (const [path, stamp] of Object.entries(record.inputs)) {
    if (fileStamp(path) !== stamp) return true;
  }
  return false;
}
