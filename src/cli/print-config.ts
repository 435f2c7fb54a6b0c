import { dirname, resolve } from 'node:path';
import { pathTest } from '../baseline/suppress.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { SeveritySetting } from '../findings.js';
import { ignoreTest, type IgnoreTest } from '../files/discover.js';
import { imageId } from '../fingerprint.js';
import { RULES } from '../rules/index.js';
import { finalSeverity } from '../severity.js';

export interface RunSettings {
  /** --rule overrides. */
  rules: Record<string, SeveritySetting>;
  strict: boolean;
  minWindowsBuild: number | undefined;
  callsites: boolean;
  baseline: string | undefined;
}

/**
 * The configuration a check of `file` runs with, as ESLint's --print-config: the config file,
 * every rule's final severity (defaults, config, --rule, --strict), whether the config's
 * `ignore` skips the file in directory searches, and the suppressions that may apply to it.
 */
export function printConfig(config: ResolvedConfig, file: string, cwd: string, run: RunSettings): string {
  const abs = resolve(cwd, file);
  const rel = imageId(abs, config.dir);
  const policy = { overrides: { ...config.rules, ...run.rules }, strict: run.strict };
  const rules = Object.fromEntries(RULES.map((r) => [r.meta.id, finalSeverity(policy, r.meta.id, r.meta.defaultSeverity)]));
  const doc = {
    configFile: config.filepath ?? null,
    file: abs,
    ignored: ignoredBy(ignoreTest(config.ignore, config.dir), abs, config.dir),
    rules,
    strict: run.strict,
    minWindowsBuild: run.minWindowsBuild ?? null,
    callsites: run.callsites,
    ignore: config.ignore,
    baseline: run.baseline ?? null,
    suppress: config.suppress.filter((s) => s.path === undefined || pathTest(s.path)(rel)),
    link: config.link,
    toolchain: config.toolchain,
    build: config.build ?? null,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Whether a directory search skips the file, or one of its directories up to the config's. */
function ignoredBy(skip: IgnoreTest, abs: string, base: string): boolean {
  if (skip(abs, false)) return true;
  for (let d = dirname(abs); d !== base && d !== dirname(d); d = dirname(d)) if (skip(d, true)) return true;
  return false;
}
