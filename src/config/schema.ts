import { resolve } from 'node:path';
import type { SeveritySetting } from '../findings.js';
import { ConfigError } from './config-error.js';
import { validateBuildConfig, type BuildConfig } from './build-section.js';
import { validateSuppress, type Suppression } from './suppress-section.js';
import { parseWindowsVersion, WINDOWS_VERSION_FORMS } from '../windows-version.js';

/** The `hvci` configuration, as users write it. */
export interface HvciConfig {
  /** Severity per rule id: 'off', 'note', 'warning' or 'error'. */
  rules?: Record<string, SeveritySetting>;
  /** Lowest Windows version the driver supports ('1607', '1703', '10.0.15063', 'win11'). */
  minWindowsVersion?: string;
  /** Globs (relative to the config's directory) of files `check` skips when searching directories. */
  ignore?: string[];
  /** The link wrapper's policy (hvci-build link, hvci-lld-link). */
  link?: {
    /** Merges allowed although they mix code and data, as "from=to"; each use is reported. */
    allowMerges?: string[];
    /** /SECTION values allowed although they make W+X, as "name,attrs"; each use is reported. */
    allowSections?: string[];
    /** What happens to an image that fails validation: renamed to <name>.rejected (default) or deleted. */
    rejected?: 'rename' | 'delete';
  };
  /** A driver to build with `hvci-build build` (see BuildConfig). */
  build?: Partial<BuildConfig> & { sources: string[] };
  /** Analyse the calls to allocation and mapping DDIs in the code (default true; --no-callsites for one run). */
  callsites?: boolean;
  /** A baseline file (hvci-build baseline): `check` fails only on findings it does not hold. */
  baseline?: string;
  /** Findings accepted, each with its justification (see Suppression). */
  suppress?: Suppression[];
  /** Paths of the LLVM tools, when they are not found on PATH. */
  toolchain?: Partial<Record<'clangCl' | 'lldLink' | 'llvmLib' | 'llvmDlltool' | 'llvmReadobj', string>>;
}

export interface ResolvedLinkConfig {
  allowMerges: string[];
  allowSections: string[];
  rejected: 'rename' | 'delete';
}

/** A config after validation, with where it came from. */
export interface ResolvedConfig {
  /** The file it was read from, or undefined for the defaults. */
  filepath: string | undefined;
  /** Directory the config's relative paths are relative to. */
  dir: string;
  rules: Record<string, SeveritySetting>;
  minWindowsBuild: number | undefined;
  ignore: string[];
  link: ResolvedLinkConfig;
  /** Tool name ('clang-cl', 'lld-link', ...) to path. */
  toolchain: Record<string, string>;
  build: BuildConfig | undefined;
  callsites: boolean;
  /** The baseline file, resolved against `dir`. */
  baseline: string | undefined;
  suppress: Suppression[];
}

export function defaultConfig(dir: string): ResolvedConfig {
  return {
    filepath: undefined,
    dir,
    rules: {},
    minWindowsBuild: undefined,
    ignore: [],
    link: { allowMerges: [], allowSections: [], rejected: 'rename' },
    toolchain: {},
    build: undefined,
    callsites: true,
    baseline: undefined,
    suppress: [],
  };
}

export { ConfigError };
export type { Suppression };

const SETTINGS: readonly string[] = ['off', 'note', 'warning', 'error'];
const KEYS: readonly string[] = ['rules', 'minWindowsVersion', 'ignore', 'link', 'toolchain', 'build', 'callsites', 'baseline', 'suppress'];
const TOOL_KEYS: Readonly<Record<string, string>> = {
  clangCl: 'clang-cl',
  lldLink: 'lld-link',
  llvmLib: 'llvm-lib',
  llvmDlltool: 'llvm-dlltool',
  llvmReadobj: 'llvm-readobj',
};

/** Checks a loaded config object; throws ConfigError naming the file and key. */
export function validateConfig(
  raw: unknown,
  file: string,
  dir: string,
  knownRules: ReadonlySet<string>,
): ResolvedConfig {
  const config: ResolvedConfig = { ...defaultConfig(dir), filepath: file };
  if (raw === undefined || raw === null) return config;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, '', 'the configuration must be an object');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!KEYS.includes(key)) throw new ConfigError(file, key, `unknown key (known: ${KEYS.join(', ')})`);
  }
  if (obj.rules !== undefined) {
    if (typeof obj.rules !== 'object' || obj.rules === null || Array.isArray(obj.rules)) {
      throw new ConfigError(file, 'rules', 'must be an object of rule id to severity');
    }
    for (const [id, value] of Object.entries(obj.rules as Record<string, unknown>)) {
      if (!knownRules.has(id)) throw new ConfigError(file, `rules.${id}`, 'unknown rule (see `hvci-build rules`)');
      if (typeof value !== 'string' || !SETTINGS.includes(value)) {
        throw new ConfigError(file, `rules.${id}`, `must be one of ${SETTINGS.join(', ')}, not ${JSON.stringify(value)}`);
      }
      config.rules[id] = value as SeveritySetting;
    }
  }
  if (obj.minWindowsVersion !== undefined) {
    const v = obj.minWindowsVersion;
    const build = typeof v === 'string' || typeof v === 'number' ? parseWindowsVersion(v) : undefined;
    if (build === undefined) {
      throw new ConfigError(file, 'minWindowsVersion', `${JSON.stringify(v)} is not ${WINDOWS_VERSION_FORMS}`);
    }
    config.minWindowsBuild = build;
  }
  if (obj.ignore !== undefined) {
    const list = typeof obj.ignore === 'string' ? [obj.ignore] : obj.ignore;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new ConfigError(file, 'ignore', 'must be a glob or a list of globs');
    }
    config.ignore = list as string[];
  }
  if (obj.link !== undefined) {
    const link = objectAt(obj.link, file, 'link');
    for (const key of Object.keys(link)) {
      if (!['allowMerges', 'allowSections', 'rejected'].includes(key)) {
        throw new ConfigError(file, `link.${key}`, 'unknown key (known: allowMerges, allowSections, rejected)');
      }
    }
    config.link.allowMerges = stringList(link.allowMerges, file, 'link.allowMerges');
    config.link.allowSections = stringList(link.allowSections, file, 'link.allowSections');
    for (const m of config.link.allowMerges) {
      if (!/^[^=;]+=[^=;]+$/.test(m)) throw new ConfigError(file, 'link.allowMerges', `'${m}' is not from=to`);
    }
    if (link.rejected !== undefined) {
      if (link.rejected !== 'rename' && link.rejected !== 'delete') {
        throw new ConfigError(file, 'link.rejected', `must be 'rename' or 'delete', not ${JSON.stringify(link.rejected)}`);
      }
      config.link.rejected = link.rejected;
    }
  }
  if (obj.build !== undefined) config.build = validateBuildConfig(obj.build, file);
  if (obj.callsites !== undefined) {
    if (typeof obj.callsites !== 'boolean') throw new ConfigError(file, 'callsites', 'must be true or false');
    config.callsites = obj.callsites;
  }
  if (obj.baseline !== undefined) {
    if (typeof obj.baseline !== 'string' || obj.baseline === '') throw new ConfigError(file, 'baseline', 'must be the path of a baseline file');
    config.baseline = resolve(dir, obj.baseline);
  }
  if (obj.suppress !== undefined) config.suppress = validateSuppress(obj.suppress, file, knownRules);
  if (obj.toolchain !== undefined) {
    const tc = objectAt(obj.toolchain, file, 'toolchain');
    for (const [key, value] of Object.entries(tc)) {
      const tool = TOOL_KEYS[key];
      if (!tool) throw new ConfigError(file, `toolchain.${key}`, `unknown tool (known: ${Object.keys(TOOL_KEYS).join(', ')})`);
      if (typeof value !== 'string' || value === '') throw new ConfigError(file, `toolchain.${key}`, 'must be a path');
      config.toolchain[tool] = value;
    }
  }
  return config;
}

function objectAt(value: unknown, file: string, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(file, key, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function stringList(value: unknown, file: string, key: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) {
    throw new ConfigError(file, key, 'must be a list of strings');
  }
  return value as string[];
}
