import { readFileSync } from 'node:fs';
import { lineAt } from '../cmdline/response-files.js';

/**
 * Where a value of the config is: the file, the key, and the line of its first quoted
 * occurrence (a config is TypeScript, JavaScript, JSON or YAML: the value is written as a
 * string in any of them). No line when it cannot be found as written.
 */
export function configOrigin(file: string, key: string, value: string): { file: string; key: string; line?: number } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { file, key };
  }
  for (const written of [JSON.stringify(value), `'${value}'`, `\`${value}\``, value]) {
    const at = text.indexOf(written);
    if (at >= 0) return { file, key, line: lineAt(text, at) };
  }
  return { file, key };
}
