import { ConfigError } from '../config/schema.js';
import { EXIT, UsageError } from './errors.js';
import { MAIN_HELP } from './help.js';

/** Entry point of the `hvci-build` command: dispatches, and turns errors into one line and an exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(MAIN_HELP);
      return command === undefined ? EXIT.input : EXIT.ok;
    case '-v':
    case '--version':
      process.stdout.write((await import('./version.js')).toolVersion() + '\n');
      return EXIT.ok;
    case 'check':
      return (await import('./check-command.js')).checkCommand(rest);
    case 'rules':
      return (await import('./rules-command.js')).rulesCommand(rest);
    case 'explain':
      return (await import('./rules-command.js')).explainCommand(rest);
    case 'link':
      return (await import('./link-command.js')).linkCommand(rest);
    case 'cc':
      return (await import('./cc-command.js')).ccCommand(rest);
    case 'launch':
      return (await import('./launch-command.js')).launchCommand(rest);
    case 'run':
      return (await import('./run-command.js')).runCommand(rest);
    case 'build':
      return (await import('./build-command.js')).buildCommand(rest);
    case 'init':
      return (await import('./init-command.js')).initCommand(rest);
    case 'doctor':
      return (await import('./doctor-command.js')).doctorCommand();
    default:
      throw new UsageError(`unknown command '${command}' (see hvci-build --help)`);
  }
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`hvci-build: ${err.message}\n`);
    return EXIT.input;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`hvci-build: config error: ${err.message}\n`);
    return EXIT.input;
  }
  if (err instanceof Error && (err.name === 'ResponseFileError' || err.name === 'ToolNotFoundError' || err.name === 'SpawnError')) {
    process.stderr.write(`hvci-build: ${err.message}\n`);
    return EXIT.input;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.path === 'string') {
    process.stderr.write(`hvci-build: ${e.path}: ${e.code}\n`);
    return EXIT.input;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`hvci-build: internal error: ${message}\n`);
  if (process.env.HVCI_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT.internal;
}
