import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { RULES_BY_ID } from '../rules/index.js';
import { ConfigError, defaultConfig, validateConfig, type ResolvedConfig } from './schema.js';
import { importModule } from '../import-module.js';
import { privateDir } from '../cache-files.js';
import { writeAtomically } from '../files/write-atomically.js';
import { distrust } from './trust.js';
import { sha256 } from '../sha256.js';

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
  if (explicitPath) {
    const why = distrust(filepath);
    if (why) throw refused(filepath, `it ${why}`);
  }
  const raw = await loadConfigFile(filepath);
  return validateConfig(raw, filepath, dirname(filepath), KNOWN_RULES);
}

/**
 * The nearest config file from cwd up to the project root (the directory holding
 * package.json or .git), the home directory, or a directory others can write to, whichever
 * comes first: the search never climbs into such a directory (./trust.ts). A config found
 * that others could have written (the file, or the directory it was found in) is refused.
 */
export function findConfigFile(cwd: string): string | undefined {
  let dir = resolve(cwd);
  const home = homeDir();
  for (;;) {
    for (const name of SEARCH_PLACES) {
      const candidate = join(dir, name);
      if (!existsSync(candidate)) continue;
      if (name !== 'package.json' || packageJsonHasKey(candidate)) {
        const fileWhy = distrust(candidate);
        if (fileWhy) throw refused(candidate, `it ${fileWhy}`);
        const dirWhy = distrust(dir);
        if (dirWhy) throw refused(candidate, `its directory ${dir} ${dirWhy}`);
        return candidate;
      }
    }
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'))) return undefined;
    if (dir === home) return undefined;
    const parent = dirname(dir);
    if (parent === dir || distrust(parent)) return undefined;
    dir = parent;
  }
}

function homeDir(): string | undefined {
  try {
    return resolve(homedir());
  } catch {
    return undefined;
  }
}

function refused(file: string, why: string): ConfigError {
  return new ConfigError(file, '', `not used: ${why}, so someone else may have written it (make it yours and writable by you alone, or remove it)`);
}

function packageJsonHasKey(path: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return pkg !== null && typeof pkg === 'object' && MODULE_NAME in pkg;
  } catch {
    return false;
  }
}

/**
 * JSON, package.json and JavaScript configs are read directly; cosmiconfig
 * (~30 ms to load) serves YAML and the TypeScript configs the cache cannot.
 * The wrappers run once per link and compile, so this matters.
 */
async function loadConfigFile(filepath: string): Promise<unknown> {
  const name = basename(filepath);
  if (name.endsWith('.ts')) return loadTsConfig(filepath);
  if (name === 'package.json' || name.endsWith('.json') || name === '.hvcirc') {
    let text: string;
    try {
      text = readFileSync(filepath, 'utf8');
    } catch (err) {
      throw new ConfigError(filepath, '', `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let data: unknown;
    try {
      data = text.trim() === '' ? undefined : JSON.parse(text);
    } catch (err) {
      // .hvcirc may be YAML.
      if (name === '.hvcirc') return loadWithCosmiconfig(filepath);
      throw new ConfigError(filepath, '', `cannot load: ${(err as Error).message.split('\n')[0]}`);
    }
    return name === 'package.json' ? (data as Record<string, unknown> | undefined)?.[MODULE_NAME] : data;
  }
  if (/\.(mjs|js)$/.test(name)) return importConfig(filepath);
  return loadWithCosmiconfig(filepath);
}

async function importConfig(filepath: string): Promise<unknown> {
  try {
    const mod = await importModule<{ default?: unknown }>(pathToFileURL(filepath).href);
    return mod.default ?? mod;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new ConfigError(filepath, '', `cannot load: ${message}`);
  }
}

async function loadWithCosmiconfig(filepath: string): Promise<unknown> {
  const { cosmiconfig } = await importModule<typeof import('cosmiconfig')>('cosmiconfig');
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

/** The last line of a cached config's JavaScript: the SHA-256 of what precedes it. */
const CACHE_STAMP = '// hvci-build config cache sha256:';

/**
 * Whether a cached config is whole: a damaged one (a full disk, a crash, an edit) is made
 * again from the config, never reported as the user's error.
 */
function cacheIsWhole(file: string, stamp: (code: string) => string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const at = text.lastIndexOf(`\n${CACHE_STAMP}`);
  return at >= 0 && text.slice(at) === stamp(text.slice(0, at));
}

/** `import { defineConfig } from 'hvci-build';` as TypeScript emits it, alone on its line. */
const DEFINE_CONFIG_IMPORT = /^import\s*\{\s*defineConfig\s*\}\s*from\s*['"]hvci-build['"];?[ \t]*$/m;

/**
 * A .ts config costs a TypeScript load (~300 ms) through cosmiconfig. A config
 * with no runtime imports (type-only imports are erased) is transpiled once
 * and the JavaScript cached by the file's path, size and time, so `build` with
 * nothing to do stays fast. Anything else goes through cosmiconfig.
 */
async function loadTsConfig(filepath: string): Promise<unknown> {
  const source = readFileSync(filepath);
  // The whole path and the contents: two projects' configs never share a cache entry.
  const key = sha256([filepath, source]).slice(0, 40);
  // The cached file is run: only in a directory nobody else can write to.
  const cacheDir = privateDir('hvci-build-config-cache');
  if (!cacheDir) return loadWithCosmiconfig(filepath);
  const cached = join(cacheDir, `${key}.mjs`);
  const stamp = (code: string): string => `\n${CACHE_STAMP}${sha256([code])}\n`;
  if (!cacheIsWhole(cached, stamp)) {
    let code: string;
    let syntaxError: string | undefined;
    let ts: typeof import('typescript');
    try {
      ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
    } catch {
      // TypeScript is an optional peer dependency: only .ts configs need it.
      throw new ConfigError(filepath, '', 'is TypeScript, and the typescript package is not installed: npm install --save-dev typescript (or use hvci.config.mjs or .json)');
    }
    try {
      const diagnostics: import('typescript').Diagnostic[] = [];
      const result = ts.transpileModule(source.toString('utf8'), {
        reportDiagnostics: true,
        fileName: filepath,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      });
      diagnostics.push(...(result.diagnostics ?? []));
      const first = diagnostics.find((d) => d.category === ts.DiagnosticCategory.Error);
      if (first) {
        const where = first.file && first.start !== undefined ? first.file.getLineAndCharacterOfPosition(first.start) : undefined;
        syntaxError = `${where ? `line ${where.line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(first.messageText, ' ')}`;
      }
      code = result.outputText;
    } catch {
      return loadWithCosmiconfig(filepath);
    }
    if (syntaxError) throw new ConfigError(filepath, '', `cannot load: ${syntaxError}`);
    if (!/\bexport\s+default\b/.test(code)) throw new ConfigError(filepath, '', 'has no default export (export default { ... })');
    // defineConfig is the identity: its import from hvci-build (the README's form) needs no
    // module at all, so such a config is cached like a type-only one (1 s -> 0.07 s a run).
    code = code.replace(DEFINE_CONFIG_IMPORT, 'const defineConfig = (config) => config;');
    if (/^\s*import[\s{*'"]|\bimport\s*\(|\brequire\s*\(/m.test(code)) return loadWithCosmiconfig(filepath);
    try {
      writeAtomically(cached, code + stamp(code));
    } catch {
      return loadWithCosmiconfig(filepath);
    }
  }
  try {
    const mod = await importModule<{ default?: unknown }>(pathToFileURL(cached).href);
    return mod.default;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new ConfigError(filepath, '', `cannot load: ${message}`);
  }
}
