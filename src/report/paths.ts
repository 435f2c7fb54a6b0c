import { isAbsolute, relative, resolve, sep } from 'node:path';

/** The '/'-separated path of `path` relative to `cwd`, or undefined when it is not inside cwd. */
export function pathInside(path: string, cwd: string): string | undefined {
  const rel = relative(resolve(cwd), resolve(cwd, path));
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/** A path as shown in reports: relative to cwd when inside it, with forward slashes. */
export function displayPath(path: string, cwd: string): string {
  if (!isAbsolute(path)) return path.split(sep).join('/');
  return pathInside(path, cwd) ?? path.split(sep).join('/');
}
