import { rmSync } from 'node:fs';
import { buildAllFixtures } from './fixtures/build.js';
import { TEST_TMP } from './helpers/toolchain.js';

/**
 * vitest globalSetup: empty the scratch directory of the previous run (tests
 * keep theirs for inspection after a failure), and build (or find in the
 * cache) every fixture once, before any test file runs.
 */
export default async function setup(): Promise<void> {
  rmSync(TEST_TMP, { recursive: true, force: true });
  await buildAllFixtures();
}
