import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { INIT_HELP } from './help.js';

const TEMPLATE = fileURLToPath(new URL('../../templates/driver/', import.meta.url));

/** npm drops .gitignore from packages and may drop dot-directories: templates keep them as _name. */
const RENAMES: Readonly<Record<string, string>> = { _gitignore: '.gitignore', _github: '.github' };

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
  const conflicts = files.map((f) => join(target, f.to)).filter((p) => existsSync(p));
  if (conflicts.length > 0 && !parsed.values.force) {
    throw new UsageError(`init: would overwrite ${conflicts.map((p) => relative(process.cwd(), p) || p).join(', ')} (use --force)`);
  }
  for (const f of files) {
    const out = join(target, f.to);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, readFileSync(join(TEMPLATE, f.from), 'utf8').replaceAll('{{name}}', name));
  }
  const where = relative(process.cwd(), target) || '.';
  process.stdout.write(
    `created driver project '${name}' in ${where}:\n` +
      files.map((f) => `  ${f.to}`).join('\n') +
      `\n\nnext:\n${where === '.' ? '' : `  cd ${where}\n`}  npx hvci-build build\n`,
  );
  return 0;
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
