import { BaselineError, readBaseline } from '../baseline/baseline-file.js';
import { configSuppressions, triage, type TriageOptions } from '../baseline/triage.js';
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

/** The config's baseline and suppressions, read before the link; undefined when it has neither. */
export type Adoption = Omit<TriageOptions, 'cwd'> | undefined;

/**
 * A legacy driver adopts hvci-build through its config's `baseline` and `suppress`. The
 * baseline is read here, before anything is linked: one the config names but that cannot be
 * read is a config error (exit 2), and no image is made for nothing.
 */
export function adoptionOf(config: ResolvedConfig): Adoption {
  if (config.baseline === undefined && config.suppress.length === 0) return undefined;
  let baseline: TriageOptions['baseline'];
  if (config.baseline !== undefined) {
    try {
      baseline = { file: config.baseline, data: readBaseline(config.baseline) };
    } catch (err) {
      if (err instanceof BaselineError) throw new ConfigError(config.filepath ?? config.baseline, 'baseline', `${err.file}: ${err.problem}`);
      throw err;
    }
  }
  return { ...(baseline ? { baseline } : {}), ...configSuppressions(config) };
}

/** The link judges an image as `check` does (src/baseline/triage.ts): on the findings that count. */
export function adopt(result: FileResult, adoption: Adoption, cwd: string): Adopted {
  if (!adoption) return { result, suppressed: 0, inBaseline: 0 };
  const report = triage(makeReport([result]), { cwd, ...adoption });
  return { result: report.files[0]!, suppressed: report.triage?.suppressed.length ?? 0, inBaseline: report.triage?.unchanged.length ?? 0 };
}
