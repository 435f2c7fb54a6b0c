import { basename } from 'node:path';
import type { Finding } from '../findings.js';
import type { Suppression } from '../config/schema.js';
import { toRegExp } from '../files/glob.js';
import { functionOf, sectionOf } from '../fingerprint.js';

/** A matcher for the config's suppressions; records which ones matched. */
export interface Suppressor {
  /** The index of the first suppression that accepts the finding in the image at `imagePath` (relative to the config's directory). */
  match(f: Finding, imagePath: string): number | undefined;
  /** Indexes of the suppressions that matched nothing so far. */
  unused(): number[];
}

export function suppressor(list: readonly Suppression[]): Suppressor {
  const paths = list.map((s) => (s.path === undefined ? undefined : pathTest(s.path)));
  const used = new Set<number>();
  return {
    match(f, imagePath) {
      const i = list.findIndex(
        (s, k) =>
          s.rule === f.rule &&
          (paths[k] === undefined || paths[k]!(imagePath)) &&
          (s.section === undefined || sectionOf(f) === s.section) &&
          (s.function === undefined || functionOf(f) === s.function) &&
          (s.rva === undefined || f.rva === s.rva),
      );
      if (i < 0) return undefined;
      used.add(i);
      return i;
    },
    unused: () => list.map((_, i) => i).filter((i) => !used.has(i)),
  };
}

/** A glob over the image's path; one without '/' matches the file name, as in .gitignore. */
export function pathTest(pattern: string): (path: string) => boolean {
  const re = toRegExp(pattern);
  return pattern.includes('/') ? (p) => re.test(p) : (p) => re.test(basename(p));
}

/** What a suppression matches, for a report line: `rule exec-pool-type, function AllocExec`. */
export function describeSuppression(s: Suppression): string {
  const parts = [`rule ${s.rule}`];
  if (s.path !== undefined) parts.push(`path ${s.path}`);
  if (s.section !== undefined) parts.push(`section ${s.section}`);
  if (s.function !== undefined) parts.push(`function ${s.function}`);
  if (s.rva !== undefined) parts.push(`rva 0x${s.rva.toString(16).toUpperCase()}`);
  return parts.join(', ');
}
