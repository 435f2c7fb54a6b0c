import { formatMessage } from '../check-image.js';
import type { ArgValue } from '../findings.js';
import type { BuildProblem, ProblemLocation } from '../problems.js';

/**
 * Why the link policy refuses a flag: a stable id, the image rule the flag would break (when
 * there is one), and the wording. `{where}` is the flag, and for a .drectve flag the object.
 */
export const REFUSALS = {
  'nxcompat-off': { rule: 'nx-compat', message: '{where} turns off NX_COMPAT; memory integrity needs it' },
  'align-not-page': { rule: 'section-alignment', message: '{where}: section alignment must be a multiple of 0x1000' },
  'merge-not-pair': { rule: undefined, message: "{where}: '{pair}' is not from=to" },
  'merge-loop': { rule: undefined, message: '{where}: the /merge rules loop ({cycle}), which lld-link rejects' },
  'merge-wx': { rule: 'wx-section', message: '{where}: merging {from} into {dest}{through} makes a writable and executable section' },
  'merge-exec-data': { rule: undefined, message: '{where}: merging {from} into {dest}{through} mixes data and code: {data} becomes executable' },
  'merge-exec-iat': {
    rule: 'iat-in-exec',
    message: '{where}: merging {from} into {dest}{through} mixes data and code: {data} becomes executable and puts the IAT in executable memory',
  },
  'section-invalid': { rule: undefined, message: '{where}: {reason}' },
  'section-no-attrs': { rule: 'no-permissions', message: '{where} leaves section {section} with no attributes, which lld-link rejects' },
  'section-wx': { rule: 'wx-section', message: '{where} makes section {section} writable and executable' },
  'section-iat-exec': { rule: 'iat-in-exec', message: '{where} makes section {section}, which holds the IAT, executable' },
} as const satisfies Record<string, { rule: string | undefined; message: string }>;

export type RefusalId = keyof typeof REFUSALS;

/** A flag the policy refuses, as data. */
export interface Refusal {
  id: RefusalId;
  /** The flag as written. */
  flag: string;
  /** Its position in the expanded command line; undefined for a .drectve flag. */
  index?: number;
  /** The object whose .drectve section holds it. */
  object?: string;
  args: Record<string, ArgValue>;
}

/** A refusal with its wording and where its flag came from. */
export function refusalProblem(r: Refusal, location: ProblemLocation | undefined): BuildProblem {
  const { rule, message } = REFUSALS[r.id];
  const where = r.object !== undefined ? `${r.flag} in the .drectve section of ${r.object}` : r.flag;
  const args = { flag: r.flag, ...(r.object !== undefined ? { object: r.object } : {}), ...r.args };
  return {
    kind: 'refusal',
    id: r.id,
    ...(rule ? { rule } : {}),
    message: formatMessage(message, { ...args, where }),
    args,
    ...(location ? { location } : {}),
  };
}
