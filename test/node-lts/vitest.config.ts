import { defineConfig } from 'vitest/config';

// npm run test:node-lts: the CLI run by each Node LTS users have (test/node-lts/run.ts picks
// the version): the packed package, the command line, links and reports, the compile cache.
export default defineConfig({
  test: {
    include: ['test/package.test.ts', 'test/compile-cache.test.ts', 'test/cli.test.ts', 'test/link.test.ts', 'test/ci-gate.test.ts', 'test/wrapper-report.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/node-lts/setup.ts'],
    testTimeout: 120000,
    hookTimeout: 600000,
  },
});
