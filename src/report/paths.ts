import { isAbsolute, relative, sep } from 'node:path';

/** A path as shown in reports: relative to cwd when inside it, with forward slashes. */
export function displayPath(path: string, cwd: string): string {
  if (!isAbsolute(path)) return path.split(sep).join('/');
  const rel = relative(cwd, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return path.split(sep).join('/');
  return rel.split(sep).join('/');
}
