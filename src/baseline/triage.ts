import { dirname, resolve } from 'node:path';
import { UNCHECKED_RULES, type Finding } from '../findings.js';
import type { ResolvedConfig, Suppression } from '../config/schema.js';
import { findingKey, imageId, imageName } from '../fingerprint.js';
import { makeReport } from '../report/summary.js';
import type { BaselineState, CheckReport, FixedFinding, PlacedFinding, SuppressedFinding } from '../report/types.js';
import type { Baseline } from './baseline-file.js';
import { describeSuppression, suppressor } from './suppress.js';

export interface TriageOptions {
  /** Directory the report's relative paths are relative to. */
  cwd: string;
  /** The baseline and the file it came from (its paths are relative to the file's directory). */
  baseline?: { file: string; data: Baseline };
  /** The config's suppressions, the config file, and the directory their paths are relative to. */
  suppress?: { file: string; dir: string; list: readonly Suppression[] };
}

/** The config's suppressions as triage takes them: none when it has none. */
export function configSuppressions(config: Pick<ResolvedConfig, 'filepath' | 'dir' | 'suppress'>): Pick<TriageOptions, 'suppress'> {
  return config.suppress.length > 0 ? { suppress: { file: config.filepath ?? config.dir, dir: config.dir, list: config.suppress } } : {};
}

/**
 * The stage between the engine and the reporters: applies the config's suppressions and the
 * baseline to a report and returns a new one, whose files hold only the findings that count
 * (the summary and the exit code follow from them) and whose `triage` lists the rest.
 * Findings that mean a file could not be checked are never suppressed or baselined.
 * The report given is not changed.
 */
export function triage(report: CheckReport, options: TriageOptions): CheckReport {
  const suppressions = options.suppress?.list ?? [];
  if (!options.baseline && suppressions.length === 0) return report;
  const sup = suppressions.length > 0 ? suppressor(suppressions) : undefined;
  const matcher = options.baseline ? baselineMatcher(options.baseline, report.files.map((f) => resolve(options.cwd, f.path))) : undefined;
  const unchanged: PlacedFinding[] = [];
  const suppressed: SuppressedFinding[] = [];
  const files = report.files.map((file) => {
    const abs = resolve(options.cwd, file.path);
    const supPath = options.suppress ? imageId(abs, options.suppress.dir) : '';
    const kept: Finding[] = [];
    for (const f of file.findings) {
      if (UNCHECKED_RULES.has(f.rule)) {
        kept.push(f);
        continue;
      }
      // Suppressed findings are matched against the baseline too: one suppressed after the
      // baseline was made is not "fixed".
      const state = matcher?.take(abs, f);
      const by = sup?.match(f, supPath);
      if (by !== undefined) {
        suppressed.push({ path: file.path, finding: f, justification: suppressions[by]!.justification, by: `suppress[${by}]`, ...(state ? { baselineState: state } : {}) });
      } else if (state === 'unchanged') {
        unchanged.push({ path: file.path, finding: f });
      } else {
        kept.push(f);
      }
    }
    return { ...file, findings: kept };
  });
  const unusedSuppressions = (sup?.unused() ?? []).map((i) => ({
    file: options.suppress!.file,
    by: `suppress[${i}]`,
    what: describeSuppression(suppressions[i]!),
    justification: suppressions[i]!.justification,
  }));
  return {
    ...makeReport(files, report.search),
    triage: {
      ...(options.baseline ? { baseline: options.baseline.file } : {}),
      unchanged,
      fixed: matcher?.fixed() ?? [],
      suppressed,
      unusedSuppressions,
      suppressing: suppressions.length > 0,
    },
  };
}

interface BaselineMatcher {
  /** Whether the baseline holds this finding of the image at `path` (absolute); a held one is used up. */
  take(path: string, f: Finding): BaselineState;
  /** The baseline's findings of this run's images that were not taken. */
  fixed(): FixedFinding[];
}

/**
 * Baseline entries by image and key, with how many are left. An image whose path the baseline
 * does not know takes the entries of a baseline image of the same file name that this run did
 * not check: the output directory moved (build/ to out/). Entries of images this run did not
 * check are out of its scope: neither matched nor fixed.
 */
function baselineMatcher(baseline: { file: string; data: Baseline }, paths: readonly string[]): BaselineMatcher {
  const root = dirname(baseline.file);
  const runIds = new Set(paths.map((p) => imageId(p, root)));
  const basePaths = new Set(baseline.data.findings.map((e) => e.path));
  const moved = new Map<string, string>();
  for (const id of runIds) {
    if (basePaths.has(id)) continue;
    const from = [...basePaths].find((p) => !runIds.has(p) && !moved.has(p) && imageName(p) === imageName(id));
    if (from !== undefined) moved.set(from, id);
  }
  const slots = new Map<string, { id: string; entry: Baseline['findings'][number]; left: number }>();
  for (const entry of baseline.data.findings) {
    const id = moved.get(entry.path) ?? entry.path;
    if (!runIds.has(id)) continue;
    const slot = slots.get(`${id}\0${entry.key}`);
    if (slot) slot.left += entry.count;
    else slots.set(`${id}\0${entry.key}`, { id, entry, left: entry.count });
  }
  return {
    take(path, f) {
      const slot = slots.get(`${imageId(path, root)}\0${findingKey(f)}`);
      if (!slot || slot.left === 0) return 'new';
      slot.left--;
      return 'unchanged';
    },
    fixed() {
      const out: FixedFinding[] = [];
      for (const { id, entry, left } of slots.values()) {
        for (let i = 0; i < left; i++) {
          out.push({
            path: resolve(root, id),
            key: entry.key,
            rule: entry.rule,
            severity: entry.severity,
            message: entry.message,
            ...(entry.section !== undefined ? { section: entry.section } : {}),
            ...(entry.function !== undefined ? { function: entry.function } : {}),
          });
        }
      }
      return out;
    },
  };
}
