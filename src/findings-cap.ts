import type { Finding } from './findings.js';
import { FINDINGS_PER_RULE } from './limits.js';
import type { Detection } from './rules/types.js';

export { FINDINGS_PER_RULE } from './limits.js';

/**
 * Keeps the first FINDINGS_PER_RULE findings of each rule (in place, order kept)
 * and hands `note` one `skipped-check` detection per rule that had more, with the
 * total (its wording is skipped-check's 'findings-cap' message).
 * `totals` gives the real count for rules whose data was already cut to the
 * cap while parsing (straddling relocations). The exit code is unchanged: the
 * findings kept carry the same severities as those dropped.
 */
export function capFindings(
  findings: Finding[],
  note: (d: Detection) => void,
  totals: Readonly<Record<string, number | undefined>> = {},
): void {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1);
  const capped: [string, number][] = [];
  for (const [rule, count] of counts) {
    const total = Math.max(count, totals[rule] ?? 0);
    if (total > FINDINGS_PER_RULE) capped.push([rule, total]);
  }
  if (capped.length === 0) return;
  const kept = new Map<string, number>();
  let w = 0;
  for (const f of findings) {
    const n = (kept.get(f.rule) ?? 0) + 1;
    kept.set(f.rule, n);
    if (n <= FINDINGS_PER_RULE) findings[w++] = f;
  }
  findings.length = w;
  for (const [rule, total] of capped) {
    const shown = Math.min(kept.get(rule)!, FINDINGS_PER_RULE);
    note({ messageId: 'findings-cap', args: { rule, shown, total, rest: total - shown } });
  }
}
