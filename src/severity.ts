import type { Severity, SeveritySetting } from './findings.js';

/** Severity settings for one run: config, then command line, then --strict. */
export interface SeverityPolicy {
  overrides: Readonly<Record<string, SeveritySetting>>;
  strict: boolean;
}

/** The severity a finding ends up with, or 'off' when it is not reported. */
export function finalSeverity(policy: SeverityPolicy, rule: string, detected: Severity): SeveritySetting {
  const chosen = policy.overrides[rule] ?? detected;
  if (chosen === 'warning' && policy.strict) return 'error';
  return chosen;
}
