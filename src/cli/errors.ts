/** A bad command line: reported in one line with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = {
  ok: 0,
  findings: 1,
  /** Usage error, broken config, or an input that could not be read or is malformed. */
  input: 2,
  /** A bug in hvci-build. */
  internal: 3,
} as const;

// Write errors live with the file helpers (the build and link code use them too); the CLI reports them.
export { WriteError, writingFile } from '../files/write-error.js';
