/** A broken config: names the file and the key, for a one-line error with exit code 2. */
export class ConfigError extends Error {
  readonly file: string;
  readonly key: string;
  constructor(file: string, key: string, problem: string) {
    super(`${file}: ${key ? `${key}: ` : ''}${problem}`);
    this.name = 'ConfigError';
    this.file = file;
    this.key = key;
  }
}
