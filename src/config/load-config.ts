import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { RULES_BY_ID } from '../rules/index.js';
import { ConfigError, defaultConfig, validateConfig, type ResolvedConfig } from './schema.js';

export const MODULE_NAME = 'hvci';

/** Where a config may be, in the order looked at, in each directory from cwd up to the project root. */
export const SEARCH_PLACES: readonly string[] = [
  'package.json',
  '.hvcirc',
  '.hvcirc.json',
  '.hvcirc.yaml',
  '.hvcirc.yml',
  '.hvcirc.js',
  '.hvcirc.ts',
  '.hvcirc.mjs',
  '.hvcirc.cjs',
  'hvci.config.ts',
  'hvci.config.mjs',
  'hvci.config.js',
  'hvci.config.cjs',
  'hvci.config.json',
];

const KNOWN_RULES = new Set(RULES_BY_ID.keys());

/**
 * Finds and loads the project's config. The search is ours (a few stat calls)
 * so that a run without a config never loads cosmiconfig; cosmiconfig loads
 * the file once found, for its TypeScript, JavaScript, YAML and JSON support.
 */
export async function loadConfig(cwd: string, explicitPath?: string): Promise<ResolvedConfig> {
  const filepath = explicitPath ? resolve(cwd, explicitPath) : findConfigFile(cwd);
  if (!filepath) return defaultConfig(cwd);
  if (!existsSync(filepath)) throw new ConfigError(filepath, '', 'config file not found');
  const raw = await loadWithCosmiconfig(filepath);
  return validateConfig(raw, filepath, dirname(filepath), KNOWN_RULES);
}

/** The nearest config file from cwd up to the directory holding package.json or .git. */
export function findConfigFile(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of SEARCH_PLACES) {
      const candidate = join(dir, name);
      if (!existsSync(candidate)) continue;
      if (name !== 'package.json' || packageJsonHasKey(candidate)) return candidate;
    }
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function packageJsonHasKey(path: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return pkg !== null && typeof pkg === 'object' && MODULE_NAME in pkg;
  } catch {
    return false;
  }
}

async function loadWithCosmiconfig(filepath: string): Promise<unknown> {
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig(MODULE_NAME, { searchPlaces: [...SEARCH_PLACES], cache: false });
  let result;
  try {
    result = await explorer.load(filepath);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new ConfigError(filepath, '', `cannot load: ${message}`);
  }
  if (!result || result.isEmpty) return undefined;
  const config = result.config as unknown;
  // ESM configs that `export default defineConfig(...)` may arrive wrapped.
  if (config && typeof config === 'object' && 'default' in config && Object.keys(config).length === 1) {
    return (config as { default: unknown }).default;
  }
  return config;
}
