import { renameSync, rmSync } from 'node:fs';

export const REJECTED_SUFFIX = '.rejected';

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
