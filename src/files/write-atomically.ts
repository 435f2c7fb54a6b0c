import { renameSync, unlinkSync, writeFileSync } from 'node:fs';

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
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw err;
  }
}
