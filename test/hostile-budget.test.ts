import { afterAll, describe, expect, it } from 'vitest';
import { HOSTILE_CASES, measureCli, type Measured } from './hostile/cases.js';
import { tempDir } from './helpers/toolchain.js';

/**
 * `npm run hostile` (and part of `npm test`): each hostile input checked by the built CLI
 * in a child process, within its time and memory budget, with the exit code and output
 * it must give.
 */
const rows: string[] = [];

describe('hostile inputs stay within their budgets', () => {
  for (const c of HOSTILE_CASES) {
    it(c.name, async () => {
      const dir = tempDir('hostile');
      const args = await c.setup(dir);
      // Killed at twice the budget, so a hang fails the test instead of stalling it.
      const r: Measured = await measureCli(args, dir, c.budget.ms * 2);
      const mb = r.maxRssKb === undefined ? undefined : r.maxRssKb / 1024;
      rows.push(`${c.name.padEnd(58)} ${r.ms.toFixed(0).padStart(6)} ms ${mb === undefined ? '     ?' : mb.toFixed(0).padStart(6)} MB  exit ${r.exitCode ?? r.signal}`);
      expect(r.timedOut, `${c.name}: still running after ${c.budget.ms * 2} ms`).toBe(false);
      expect(r.signal, `${c.name}: killed by a signal; stderr: ${r.stderr.slice(-400)}`).toBeUndefined();
      expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
      c.verify(r);
      expect(r.ms, `${c.name}: time`).toBeLessThan(c.budget.ms);
      expect(mb, `${c.name}: peak memory (MB)`).toBeLessThan(c.budget.mb);
    });
  }
  afterAll(() => {
    if (rows.length) console.log(`hostile inputs (wall time, peak RSS, exit code):\n${rows.join('\n')}`);
  });
});
