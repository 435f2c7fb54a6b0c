import { UsageError } from './errors.js';

/**
 * What `hvci-build init` adds to a project's .gitignore and package.json: merged into the
 * user's files, which keep everything they had (their lines, keys, order and indentation).
 */

/** The template's lines that the existing .gitignore lacks, appended. */
export function mergeGitignore(existing: string | undefined, template: string): string {
  if (existing === undefined) return template;
  const have = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
  const missing = template.split('\n').filter((l) => l.trim() !== '' && !have.has(l.trim()));
  if (missing.length === 0) return existing;
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  const sep = existing === '' || existing.endsWith('\n') ? '' : eol;
  return `${existing}${sep}${missing.join(eol)}${eol}`;
}

export interface InitPackage {
  /** npm name for a new package.json. */
  name: string;
  /** hvci-build (so CI installs it from the project's lockfile) and typescript (for hvci.config.ts), with their ranges. */
  devDependencies: Readonly<Record<string, string>>;
  scripts: Readonly<Record<string, string>>;
}

/**
 * package.json with the devDependencies the project does not already depend on
 * and the npm scripts the workflow runs (a script of the same name is the user's and stays).
 * `file` names the file in the one-line error for one that is not a JSON object.
 */
export function mergePackageJson(existing: string | undefined, file: string, add: InitPackage): string {
  if (existing === undefined) {
    return `${JSON.stringify({ name: add.name, private: true, scripts: { ...add.scripts }, devDependencies: { ...add.devDependencies } }, null, 2)}\n`;
  }
  let pkg: unknown;
  try {
    pkg = JSON.parse(existing.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError(`init: ${file} is not valid JSON (${(err as Error).message.split('\n')[0]}); fix it or remove it`);
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) throw new UsageError(`init: ${file} is not a JSON object`);
  const out = pkg as Record<string, unknown>;
  for (const key of ['scripts', 'dependencies', 'devDependencies']) {
    const v = out[key];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new UsageError(`init: ${file}: "${key}" is not an object`);
  }
  const scripts = (out.scripts ?? {}) as Record<string, unknown>;
  const newScripts = Object.entries(add.scripts).filter(([k]) => !(k in scripts));
  const deps = (out.dependencies ?? {}) as Record<string, unknown>;
  const devDeps = (out.devDependencies ?? {}) as Record<string, unknown>;
  const missing = Object.entries(add.devDependencies).filter(([k]) => !(k in deps) && !(k in devDeps));
  // Nothing to add: the user's file stays byte for byte (a BOM, its own number forms, no final newline).
  if (newScripts.length === 0 && missing.length === 0) return existing;
  if (newScripts.length > 0) out.scripts = { ...scripts, ...Object.fromEntries(newScripts) };
  if (missing.length > 0) out.devDependencies = { ...devDeps, ...Object.fromEntries(missing) };
  const indent = /^[{[]\r?\n([ \t]+)/.exec(existing)?.[1] ?? 2;
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  return `${JSON.stringify(out, null, indent).replace(/\n/g, eol)}${eol}`;
}

/** An npm package name from a directory name (lower case, URL-safe; 'driver' when nothing is left). */
export function npmName(dir: string): string {
  return dir.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '').slice(0, 214) || 'driver';
}
