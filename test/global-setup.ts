import { rmSync } from 'node:fs';
import { buildAllFixtures } from './fixtures/build.js';
import { testTmp } from './helpers/toolchain.js';

/**
 * vitest globalSetup: make this run's own scratch directory (removed when the run
 * ends; set HVCI_TEST_TMP to a directory of your own to keep the files for inspection), and build (or find in the
 * cache) every fixture once, before any test file runs.
 */
export default async function setup(): Promise<() => void> {
  const own = process.env.HVCI_TEST_TMP === undefined;
  const tmp = testTmp();
  await buildAllFixtures();
  return () => {
    if (own) rmSync(tmp, { recursive: true, force: true });
  };
}
