/** Options `check` and `build` share, read the same way by both. */
import type { SeveritySetting } from '../findings.js';
import { RULES_BY_ID } from '../rules/index.js';
import { parseWindowsVersion, WINDOWS_VERSION_FORMS } from '../windows-version.js';
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

const SETTINGS: readonly string[] = ['off', 'note', 'warning', 'error'];

/** --rule id=severity, repeatable: the overrides, each rule and severity known. */
export function parseRuleOverrides(list: readonly string[]): Record<string, SeveritySetting> {
  const out: Record<string, SeveritySetting> = {};
  for (const item of list) {
    const m = /^([\w-]+)=(\w+)$/.exec(item);
    if (!m) throw new UsageError(`--rule expects id=severity, not '${item}'`);
    const [, id, setting] = m as unknown as [string, string, string];
    if (!RULES_BY_ID.has(id)) throw new UsageError(`--rule: unknown rule '${id}'${didYouMean(id, [...RULES_BY_ID.keys()])} (see hvci-build rules)`);
    if (!SETTINGS.includes(setting)) throw new UsageError(`--rule ${id}: severity must be one of ${SETTINGS.join(', ')}, not '${setting}'`);
    out[id] = setting as SeveritySetting;
  }
  return out;
}

/** --min-windows VERSION: the build number, or undefined when not given. */
export function parseMinWindows(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const build = parseWindowsVersion(value);
  if (build === undefined) throw new UsageError(`--min-windows '${value}' is not ${WINDOWS_VERSION_FORMS}`);
  return build;
}

/** --max-warnings N: a whole number of at least 0, or undefined when not given. */
export function parseMaxWarnings(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`--max-warnings must be a whole number of at least 0, not '${value}'`);
  return n;
}

/** --color and --no-color: the last one given wins, as with ESLint; undefined when neither is. */
export function colorFlag(tokens: readonly { kind: string; name?: string }[]): boolean | undefined {
  const last = tokens.findLast((t) => t.kind === 'option' && (t.name === 'color' || t.name === 'no-color'));
  return last ? last.name === 'color' : undefined;
}

/** The line and exit code when a run with no error has more warnings than --max-warnings allows. */
export function tooManyWarnings(warnings: number, maxWarnings: number | undefined): boolean {
  if (maxWarnings === undefined || warnings <= maxWarnings) return false;
  process.stderr.write(`hvci-build: ${warnings} warning${warnings === 1 ? '' : 's'}, more than --max-warnings ${maxWarnings}\n`);
  return true;
}
