import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { INIT_HELP } from './help.js';
import { mergeGitignore, mergePackageJson, npmName } from './init-merge.js';

const TEMPLATE = fileURLToPath(new URL('../../templates/driver/', import.meta.url));
const OWN_PACKAGE = new URL('../../package.json', import.meta.url);

/** npm drops .gitignore from packages and may drop dot-directories: templates keep them as _name. */
const RENAMES: Readonly<Record<string, string>> = { _gitignore: '.gitignore', _github: '.github' };

/** The npm scripts init adds; the workflow runs hvci:build. */
const SCRIPTS: Readonly<Record<string, string>> = { 'hvci:build': 'hvci-build build', 'hvci:check': 'hvci-build check build/' };

/** hvci-build init [dir] [--force]: a driver project that `hvci-build build` builds with no edits. */
export async function initCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { force: { type: 'boolean' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new UsageError((err as Error).message.split(/\n|\. To /)[0]!);
  }
  if (parsed.values.help) {
    process.stdout.write(INIT_HELP);
    return 0;
  }
  if (parsed.positionals.length > 1) throw new UsageError('usage: hvci-build init [dir] [--name NAME] [--force]');
  const target = resolve(parsed.positionals[0] ?? '.');
  const name = (parsed.values.name ?? basename(target)).replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1') || 'driver';
  const files = templateFiles(TEMPLATE);
  // .gitignore and package.json are the user's too: merged into, never overwritten.
  const conflicts = files.filter((f) => f.to !== '.gitignore').map((f) => join(target, f.to)).filter((p) => existsSync(p));
  if (conflicts.length > 0 && !parsed.values.force) {
    throw new UsageError(`init: would overwrite ${conflicts.map((p) => relative(process.cwd(), p) || p).join(', ')} (use --force)`);
  }
  const pkgPath = join(target, 'package.json');
  const pkgBefore = readIfExists(pkgPath);
  // Read and checked before anything is written, so a broken package.json leaves the directory as it was.
  const pkg = mergePackageJson(pkgBefore, relative(process.cwd(), pkgPath) || pkgPath, { name: npmName(parsed.values.name ?? basename(target)), devDependencies: devDependencies(), scripts: SCRIPTS });
  const listed: string[] = [];
  for (const f of files) {
    const out = join(target, f.to);
    mkdirSync(dirname(out), { recursive: true });
    const text = readFileSync(join(TEMPLATE, f.from), 'utf8').replaceAll('{{name}}', name);
    const before = f.to === '.gitignore' ? readIfExists(out) : undefined;
    writeFileSync(out, f.to === '.gitignore' ? mergeGitignore(before, text) : text);
    listed.push(`  ${f.to}${before !== undefined ? ' (merged)' : ''}`);
  }
  if (pkg !== pkgBefore) writeFileSync(pkgPath, pkg);
  listed.push(`  package.json${pkgBefore === undefined ? '' : pkg === pkgBefore ? ' (unchanged)' : ' (merged)'}`);
  const where = relative(process.cwd(), target) || '.';
  process.stdout.write(
    `created driver project '${name}' in ${where}:\n` +
      listed.join('\n') +
      `\n\nnext:\n${where === '.' ? '' : `  cd ${where}\n`}  npm install          (hvci-build into devDependencies; commit package-lock.json: CI runs npm ci)\n  npm run hvci:build\n`,
  );
  return 0;
}

/** hvci-build at this version's range, and typescript (which loads hvci.config.ts) at the range hvci-build accepts. */
function devDependencies(): Record<string, string> {
  const own = JSON.parse(readFileSync(OWN_PACKAGE, 'utf8')) as { version: string; peerDependencies: Record<string, string> };
  return { 'hvci-build': `^${own.version}`, typescript: own.peerDependencies.typescript! };
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

function templateFiles(root: string, dir = ''): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const entry of readdirSync(join(root, dir)).sort()) {
    const from = join(dir, entry);
    const to = join(...from.split(/[\\/]/).map((part) => RENAMES[part] ?? part));
    if (statSync(join(root, from)).isDirectory()) {
      out.push(...templateFiles(root, from).map((f) => ({ from: f.from, to: f.to })));
    } else {
      out.push({ from, to });
    }
  }
  return out;
}
