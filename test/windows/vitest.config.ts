import { defineConfig } from 'vitest/config';

// npm run test:windows: hvci-build run by Node for Windows under wine (wine.ts).
export default defineConfig({
  test: {
    include: ['test/windows/**/*.test.ts'],
    globalSetup: ['test/windows/setup.ts'],
    // One wineserver for the prefix; the files run one after another.
    fileParallelism: false,
    testTimeout: 120000,
    hookTimeout: 600000,
  },
});
