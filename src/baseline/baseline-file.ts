import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SEVERITIES, UNCHECKED_RULES, type FileResult, type Severity } from '../findings.js';
import { findingKey, functionOf, imageId, sectionOf } from '../fingerprint.js';

/**
 * The baseline file: today's findings of a legacy driver, by image and key (../fingerprint.ts),
 * each with how many times it occurs. Sorted and free of dates and RVAs-as-identity, so a
 * regenerated baseline diffs only where findings changed. The rule, message, section and
 * function are there for the reader; matching uses the path and the key.
 */
export interface Baseline {
  version: 1;
  findings: BaselineEntry[];
}

export interface BaselineEntry {
  /** The image, relative to the baseline file's directory, '/'-separated. */
  path: string;
  rule: string;
  key: string;
  count: number;
  severity: Severity;
  message: string;
  section?: string;
  function?: string;
}

export const BASELINE_VERSION = 1;

/** A baseline file that cannot be used: one line naming the file and the problem. */
export class BaselineError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`baseline ${file}: ${problem}`);
    this.name = 'BaselineError';
  }
}

/** Reads a baseline file; BaselineError when it cannot be read or is not a baseline. */
export function readBaseline(file: string): Baseline {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new BaselineError(file, `cannot read: ${code}${code === 'ENOENT' ? ' (make it with hvci-build baseline)' : ''}`);
  }
  return parseBaseline(text, file);
}

/** The baseline of a check's findings, for a file at `file` (paths are relative to its directory). */
export function makeBaseline(files: readonly FileResult[], file: string): Baseline {
  const root = dirname(file);
  const byId = new Map<string, BaselineEntry>();
  for (const result of files) {
    const path = imageId(result.path, root);
    for (const f of result.findings) {
      // A file that could not be checked fails every run; it is never baselined.
      if (UNCHECKED_RULES.has(f.rule)) continue;
      const key = findingKey(f);
      const id = `${path}\0${key}`;
      const entry = byId.get(id);
      if (entry) {
        entry.count++;
        continue;
      }
      const section = sectionOf(f);
      const fn = functionOf(f);
      byId.set(id, {
        path,
        rule: f.rule,
        key,
        count: 1,
        severity: f.severity,
        message: f.message,
        ...(section !== undefined ? { section } : {}),
        ...(fn !== undefined ? { function: fn } : {}),
      });
    }
  }
  const findings = [...byId.values()].sort((a, b) => cmp(a.path, b.path) || cmp(a.rule, b.rule) || cmp(a.key, b.key));
  return { version: BASELINE_VERSION, findings };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function serializeBaseline(baseline: Baseline): string {
  return JSON.stringify(baseline, null, 2) + '\n';
}

/** Reads a baseline file's text; throws BaselineError on anything but a baseline. */
export function parseBaseline(text: string, file: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BaselineError(file, `not JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BaselineError(file, 'not a baseline (an object { version, findings } was expected)');
  const obj = doc as Record<string, unknown>;
  if (obj.version !== BASELINE_VERSION) {
    throw new BaselineError(file, `version ${JSON.stringify(obj.version)} is not ${BASELINE_VERSION} (make it again with hvci-build baseline)`);
  }
  if (!Array.isArray(obj.findings)) throw new BaselineError(file, "'findings' must be a list");
  const findings = obj.findings.map((raw, i): BaselineEntry => {
    const at = `findings[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BaselineError(file, `${at} must be an object`);
    const e = raw as Record<string, unknown>;
    const str = (k: string): string => {
      if (typeof e[k] !== 'string' || e[k] === '') throw new BaselineError(file, `${at}.${k} must be a non-empty string`);
      return e[k] as string;
    };
    const key = str('key');
    if (!/^[0-9a-f]{32}$/.test(key)) throw new BaselineError(file, `${at}.key must be 32 hex digits`);
    const count = e.count;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) throw new BaselineError(file, `${at}.count must be a whole number of at least 1`);
    const severity = str('severity');
    if (!(SEVERITIES as readonly string[]).includes(severity)) throw new BaselineError(file, `${at}.severity must be one of ${SEVERITIES.join(', ')}`);
    const optional = (k: 'section' | 'function'): Partial<BaselineEntry> => (e[k] === undefined ? {} : { [k]: str(k) });
    return {
      path: str('path'),
      rule: str('rule'),
      key,
      count,
      severity: severity as Severity,
      message: typeof e.message === 'string' ? e.message : '',
      ...optional('section'),
      ...optional('function'),
    };
  });
  return { version: BASELINE_VERSION, findings };
}
