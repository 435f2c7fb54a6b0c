import { readFileSync } from 'node:fs';
import { BaselineError, parseBaseline } from '../baseline/baseline-file.js';
import { triage } from '../baseline/triage.js';
import { ConfigError } from '../config/config-error.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { FileResult } from '../findings.js';
import { makeReport } from '../report/summary.js';

/** What the config's suppressions and baseline did to one linked image's findings. */
export interface Adopted {
  /** The findings that count (the link is judged on these, as `check` judges). */
  result: FileResult;
  suppressed: number;
  inBaseline: number;
}

/**
 * A legacy driver adopts hvci-build through its config's `baseline` and `suppress`: the
 * link applies them as `check` does (src/baseline/triage.ts), so a build fails only on new
 * findings instead of setting aside an image whose findings are all known.
 */
export function adopt(result: FileResult, config: ResolvedConfig, cwd: string): Adopted {
  if (config.baseline === undefined && config.suppress.length === 0) return { result, suppressed: 0, inBaseline: 0 };
  const baseline = config.baseline !== undefined ? { file: config.baseline, data: readBaseline(config.baseline, config.filepath ?? config.baseline) } : undefined;
  const report = triage(makeReport([result]), {
    cwd,
    ...(baseline ? { baseline } : {}),
    ...(config.suppress.length > 0 ? { suppress: { file: config.filepath!, dir: config.dir, list: config.suppress } } : {}),
  });
  return { result: report.files[0]!, suppressed: report.triage?.suppressed.length ?? 0, inBaseline: report.triage?.unchanged.length ?? 0 };
}

/** The config's baseline; one it names but that cannot be read is a config error (exit 2). */
function readBaseline(file: string, configFile: string) {
  try {
    return parseBaseline(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if (err instanceof BaselineError) throw new ConfigError(configFile, 'baseline', err.message);
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(configFile, 'baseline', `cannot read ${file}: ${code}${code === 'ENOENT' ? ' (make it with hvci-build baseline)' : ''}`);
  }
}
