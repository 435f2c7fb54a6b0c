import { checkCommand } from './check-command.js';
import { explainCommand, rulesCommand } from './rules-command.js';
import { runCli } from './run-cli.js';

/** The check family of commands (bundle dist/bundle/check-main.cjs). */
export function run(argv: string[]): Promise<void> {
  return runCli(argv, { check: checkCommand, rules: rulesCommand, explain: explainCommand });
}
