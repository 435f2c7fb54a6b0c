import type { SeveritySetting } from '../findings.js';
import { parseWindowsVersion, WINDOWS_VERSION_FORMS } from './windows-version.js';

/** The `hvci` configuration, as users write it. */
export interface HvciConfig {
  /** Severity per rule id: 'off', 'note', 'warning' or 'error'. */
  rules?: Record<string, SeveritySetting>;
  /** Lowest Windows version the driver supports ('1607', '1703', '10.0.15063', 'win11'). */
  minWindowsVersion?: string;
  /** Globs (relative to the config's directory) of files `check` skips when searching directories. */
  ignore?: string[];
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
}

export class ConfigError extends Error {
  readonly file: string;
  readonly key: string;
  constructor(file: string, key: string, problem: string) {
    super(`${file}: ${key ? `${key}: ` : ''}${problem}`);
    this.name = 'ConfigError';
    this.file = file;
    this.key = key;
  }
}

const SETTINGS: readonly string[] = ['off', 'note', 'warning', 'error'];
const KEYS: readonly string[] = ['rules', 'minWindowsVersion', 'ignore'];

/** Checks a loaded config object; throws ConfigError naming the file and key. */
export function validateConfig(
  raw: unknown,
  file: string,
  dir: string,
  knownRules: ReadonlySet<string>,
): ResolvedConfig {
  const config: ResolvedConfig = { filepath: file, dir, rules: {}, minWindowsBuild: undefined, ignore: [] };
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
  return config;
}
