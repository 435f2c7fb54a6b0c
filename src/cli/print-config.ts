import { resolve } from 'node:path';
import { pathTest } from '../baseline/suppress.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { SeveritySetting } from '../findings.js';
import { toRegExp } from '../files/glob.js';
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
    ignored: ignoredBy(config.ignore, rel),
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

/** Whether an ignore glob matches the path or one of its directories (as a directory search applies them). */
function ignoredBy(globs: readonly string[], rel: string): boolean {
  const res = globs.map((g) => toRegExp(g));
  const parts = rel.split('/');
  return parts.some((_, i) => {
    const key = parts.slice(0, i + 1).join('/');
    const isDir = i < parts.length - 1;
    return res.some((re) => re.test(key) || (isDir && re.test(`${key}/`)));
  });
}
