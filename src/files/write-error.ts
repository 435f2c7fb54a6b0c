/**
 * A file of ours could not be written (a full disk, a quota). The CLI reports it in one line
 * with exit code 2: the environment, not a bug.
 */
const WRITE_PROBLEMS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
};

/**
 * A file of ours could not be written (a full disk, a quota): one line naming the file,
 * exit code 2 (the environment, not a bug). Node's write errors do not name the file.
 */
export class WriteError extends Error {
  constructor(readonly file: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    const problem = code ? (WRITE_PROBLEMS[code] ? `${WRITE_PROBLEMS[code]} (${code})` : code) : String(cause);
    super(`cannot write ${file}: ${problem}`);
    this.name = 'WriteError';
  }
}

/** Runs `write`, turning a failure to write `file` into a WriteError. */
export function writingFile<T>(file: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException)?.code === 'string') throw new WriteError(file, err);
    throw err;
  }
}
