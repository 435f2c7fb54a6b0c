import { UNCHECKED_RULES } from '../findings.js';
import { ConfigError } from './config-error.js';

/** One justified suppression: findings of `rule` matching every field given are accepted. */
export interface Suppression {
  rule: string;
  /** Glob of image paths, relative to the config's directory; one without '/' matches the file name. */
  path?: string;
  /** Section name, exactly. */
  section?: string;
  /** Function name (call-site rules), exactly. */
  function?: string;
  /** RVA of the finding (changes on a rebuild: prefer function or section). */
  rva?: number;
  justification: string;
}

const KEYS = ['rule', 'path', 'section', 'function', 'rva', 'justification'];


/** Checks the config's `suppress` list; throws ConfigError naming the file and the entry's key. */
export function validateSuppress(raw: unknown, file: string, knownRules: ReadonlySet<string>): Suppression[] {
  if (!Array.isArray(raw)) throw new ConfigError(file, 'suppress', 'must be a list of { rule, justification, path?, section?, function?, rva? }');
  return raw.map((item, i) => {
    const at = `suppress[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ConfigError(file, at, 'must be an object { rule, justification, ... }');
    const obj = item as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!KEYS.includes(key)) throw new ConfigError(file, `${at}.${key}`, `unknown key (known: ${KEYS.join(', ')})`);
    }
    if (typeof obj.rule !== 'string') throw new ConfigError(file, `${at}.rule`, 'is required: the id of the rule whose findings are accepted');
    if (!knownRules.has(obj.rule)) throw new ConfigError(file, `${at}.rule`, `unknown rule '${obj.rule}' (see \`hvci-build rules\`)`);
    if (UNCHECKED_RULES.has(obj.rule)) throw new ConfigError(file, `${at}.rule`, `'${obj.rule}' cannot be suppressed: a file that cannot be checked always fails`);
    if (typeof obj.justification !== 'string' || obj.justification.trim() === '') {
      throw new ConfigError(file, `${at}.justification`, 'is required: say why the finding is accepted');
    }
    const out: Suppression = { rule: obj.rule, justification: obj.justification.trim() };
    for (const key of ['path', 'section', 'function'] as const) {
      const v = obj[key];
      if (v === undefined) continue;
      if (typeof v !== 'string' || v === '') throw new ConfigError(file, `${at}.${key}`, 'must be a non-empty string');
      out[key] = v;
    }
    if (obj.rva !== undefined) {
      const rva = parseRva(obj.rva);
      if (rva === undefined) throw new ConfigError(file, `${at}.rva`, `must be a number or a hex string such as "0x1A2B", not ${JSON.stringify(obj.rva)}`);
      out.rva = rva;
    }
    return out;
  });
}

function parseRva(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return parseInt(v.slice(2), 16);
  return undefined;
}
