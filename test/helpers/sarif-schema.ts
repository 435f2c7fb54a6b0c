import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The SARIF 2.1.0 JSON schema the multitool's package ships beside its binary. The multitool
 * does not check enum values (a `baselineState` of "bogus" passes it), so tests check those
 * against this.
 */
export function sarifSchema(): any {
  const bin = createRequire(import.meta.url)('@microsoft/sarif-multitool') as string;
  return JSON.parse(readFileSync(join(dirname(bin), 'sarif-2.1.0.json'), 'utf8'));
}
