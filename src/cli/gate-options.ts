import { UsageError } from './errors.js';

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
