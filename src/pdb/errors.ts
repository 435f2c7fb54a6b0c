/**
 * Why a PDB was not used: a code, worded by the skipped-check rule's messages. The reader
 * throws PdbDamage internally; openPdb turns it into a result, so nothing escapes.
 */
export type PdbProblem =
  /** Not an MSF 7.00 file, or its container is inconsistent (sizes, block indices, reused blocks). */
  | 'container'
  /** A stream the reader needs (PDB info, DBI, a module's) is missing or cut short. */
  | 'stream'
  /** The PDB's GUID or age differs from the image's CodeView record: it belongs to another build. */
  | 'mismatch';

export class PdbDamage extends Error {
  constructor(
    readonly problem: Exclude<PdbProblem, 'mismatch'>,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'PdbDamage';
  }
}

export function damaged(problem: Exclude<PdbProblem, 'mismatch'>, detail: string): never {
  throw new PdbDamage(problem, detail);
}
