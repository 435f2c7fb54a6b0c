import { posix, win32 } from 'node:path';

/**
 * Source paths as a PDB records them are absolute paths of the build machine. A path map
 * (`from` prefix to `to`, as -fdebug-prefix-map) turns them into paths of this checkout.
 */
export interface PathMapping {
  from: string;
  to: string;
}

const isWindowsPath = (p: string): boolean => /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');

/** `..` and `.` resolved, '/' separators; a Windows path keeps its drive letter. */
export function normalizeSourcePath(p: string): string {
  return isWindowsPath(p) ? win32.normalize(p).replace(/\\/g, '/') : posix.normalize(p.replace(/\\/g, '/'));
}

/** The path after the longest matching `from` prefix (whole segments; Windows paths case-insensitively) is replaced by its `to`. */
export function mapSourcePath(raw: string, map: readonly PathMapping[]): string {
  const path = normalizeSourcePath(raw);
  let best: { rest: string; to: string; len: number } | undefined;
  for (const m of map) {
    const from = normalizeSourcePath(m.from).replace(/\/+$/, '');
    const fold = isWindowsPath(from) || isWindowsPath(path);
    const head = path.slice(0, from.length);
    const same = fold ? head.toLowerCase() === from.toLowerCase() : head === from;
    if (!same || (path.length > from.length && path[from.length] !== '/')) continue;
    if (!best || from.length > best.len) best = { rest: path.slice(from.length + 1), to: m.to, len: from.length };
  }
  if (!best) return path;
  const to = best.to.replace(/\\/g, '/').replace(/\/+$/, '');
  return best.rest === '' ? to || '.' : to === '' || to === '.' ? best.rest : `${to}/${best.rest}`;
}
