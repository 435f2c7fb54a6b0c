import { mkdirSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `file` under a temporary name, then renames it: a reader never sees half a file,
 * and a process killed midway leaves the old one. On failure the temporary file is
 * removed and the error thrown.
 */
export function writeAtomically(file: string, data: string | Uint8Array): void {
  // Unique per process and per worker thread: each writes its own, then renames.
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
}

/** Removes a file if it is there. */
export function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // not there
  }
}

/**
 * Writes a report the user named: atomically (a full disk leaves no truncated report, and
 * removes the previous one rather than let it pass for this run's), into the file a symbolic
 * link points at, and straight into what is not a regular file (/dev/stdout, a pipe), which
 * cannot be renamed over. Missing parent directories are made (a CI job names
 * `reports/hvci.sarif` before anything made `reports/`).
 */
export function writeOutputFile(file: string, data: string | Uint8Array): void {
  // Never renamed over: a device or a pipe must stay what it is.
  if (isSpecialFile(file)) return writeFileSync(file, data);
  let target = file;
  try {
    target = realpathSync(file);
  } catch {
    // not there yet
    mkdirSync(dirname(file), { recursive: true });
  }
  try {
    writeAtomically(target, data);
  } catch (err) {
    removeQuietly(target);
    throw err;
  }
}

/** Whether `path` is there and is not a regular file (/dev/stdout, a pipe): written straight into, never renamed over. */
export function isSpecialFile(path: string): boolean {
  try {
    return !statSync(path).isFile();
  } catch {
    return false;
  }
}
