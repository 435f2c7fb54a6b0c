import { buildAllFixtures } from './fixtures/build.js';

/** vitest globalSetup: build (or find in the cache) every fixture once, before any test file runs. */
export default async function setup(): Promise<void> {
  await buildAllFixtures();
}
