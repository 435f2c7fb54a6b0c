import { lstatSync, renameSync, rmSync } from 'node:fs';
import { REJECTED_SUFFIX } from '../files/rejected.js';

/**
 * Takes a rejected image away from where make or ninja look, so the next build
 * links again instead of treating it as up to date. Returns where it went.
 */
export function rejectImage(path: string, mode: 'rename' | 'delete'): string | undefined {
  if (mode === 'delete') {
    rmSync(path, { force: true });
    return undefined;
  }
  const target = path + REJECTED_SUFFIX;
  try {
    rmSync(target, { force: true });
    renameSync(path, target);
    return target;
  } catch {
    // Cannot move it aside (a directory in the way, say): it must still not stay.
    rmSync(path, { force: true });
    return undefined;
  }
}

/**
 * After a link that failed or was interrupted, whatever file is at the output path was not
 * validated (a linker killed mid-write leaves a fragment; a failed one may leave an older
 * image): it goes where a rejected image goes, as make's .DELETE_ON_ERROR would have it.
 * Returns undefined when there was nothing, else where it went ('deleted' when deleted).
 */
export function setAsideUnvalidated(path: string, mode: 'rename' | 'delete'): string | undefined {
  try {
    const st = lstatSync(path);
    if (!st.isFile() && !st.isSymbolicLink()) return undefined;
  } catch {
    return undefined;
  }
  return rejectImage(path, mode) ?? 'deleted';
}

/**
 * After a link whose image passed: the `<name>.rejected` an earlier link left is stale, and a
 * search of the build directory must not find it as though it were this build's.
 */
export function removeStaleRejected(path: string): void {
  try {
    rmSync(path + REJECTED_SUFFIX, { force: true });
  } catch {
    // a directory of that name is not a rejected image of ours
  }
}
