import { baselineCommand, checkCommand } from './check-command.js';
import { explainCommand, rulesCommand } from './rules-command.js';
import { runCli } from './run-cli.js';

/** The check family of commands (bundle dist/bundle/check-main.cjs). */
export function run(argv: string[]): Promise<void> {
  return runCli(argv, { check: checkCommand, baseline: baselineCommand, rules: rulesCommand, explain: explainCommand });
}
