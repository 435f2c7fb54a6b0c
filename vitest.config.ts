import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // The Windows lane runs under wine, by npm run test:windows (test/windows/vitest.config.ts).
    exclude: [...configDefaults.exclude, 'test/windows/**'],
    testTimeout: 120000,
    hookTimeout: 600000,
  },
});
