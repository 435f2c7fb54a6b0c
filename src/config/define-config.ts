import type { HvciConfig } from './schema.js';

/** Identity helper that gives `hvci.config.ts` type checking and completion. */
export function defineConfig(config: HvciConfig): HvciConfig {
  return config;
}
