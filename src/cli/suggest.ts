import { UsageError } from './errors.js';

/** Edit distance (insertions, deletions, substitutions, swaps of neighbours). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word`, when it is close enough to be a typo (a third of its length). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const dist = distance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

/** ", did you mean 'x'?" or nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const hit = closest(word, candidates);
  return hit !== undefined ? `; did you mean '${hit}'?` : '';
}

/**
 * node:util parseArgs's error as one line, with the nearest known option for an unknown
 * one: its message runs on with advice about positionals that does not apply here.
 */
export function optionError(err: unknown, options: Readonly<Record<string, object>>): UsageError {
  const message = (err as Error).message.split(/\n|\. To /)[0]!;
  const unknown = /^Unknown option '(--?[^'=]+)/.exec(message);
  if (!unknown) return new UsageError(message);
  const names = Object.keys(options).map((o) => `--${o}`);
  return new UsageError(`${message}${didYouMean(unknown[1]!, names)}`);
}
