import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const RUN = fileURLToPath(new URL('./fuzz/run.js', import.meta.url));

describe('fuzzing (npm run fuzz, a fixed seed and a short budget in CI)', () => {
  it('checkImage never throws on mutated fixture images and PDBs, and none takes 10 s', () => {
    let out: string;
    try {
      // Throws when the fuzzer exits non-zero: an exception, or an input over --fail-ms.
      // At most the seed's first 20,000 inputs, so a fast machine checks no input a slow
      // one never saw (npm run fuzz with other seeds and budgets explores further).
      out = execFileSync(process.execPath, [RUN, '--seed', '1', '--seconds', '20', '--inputs', '20000'], { encoding: 'utf8', timeout: 120_000 });
    } catch (err) {
      throw new Error(`fuzzing failed:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
    }
    console.log(out.trimEnd());
    const m = /fuzz: seed 1, (\d+) inputs/.exec(out);
    // A run that checks nothing would pass without testing anything.
    expect(Number(m?.[1])).toBeGreaterThan(1000);
    expect(out).toMatch(/fuzz: 0 exception\(s\)/);
  });
});
