import { createRequire } from 'node:module';

/**
 * SHA-256 in hex of the parts joined by NUL bytes. node:crypto takes ~5 ms to load, so it
 * loads on first use: most runs never hash.
 */
export function sha256(parts: readonly (string | Uint8Array)[]): string {
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const hash = createHash('sha256');
  parts.forEach((p, i) => {
    if (i > 0) hash.update('\0');
    hash.update(p);
  });
  return hash.digest('hex');
}
