import { buildCommand } from './build-command.js';
import { ccCommand } from './cc-command.js';
import { doctorCommand } from './doctor-command.js';
import { initCommand } from './init-command.js';
import { launchCommand } from './launch-command.js';
import { linkCommand } from './link-command.js';
import { runCommand } from './run-command.js';
import { runCli } from './run-cli.js';

/** The commands that build (bundle dist/bundle/wrap-main.cjs); dist/bin/hvci-build.cjs sends these here. */
export function run(argv: string[]): Promise<void> {
  return runCli(argv, {
    link: (a) => linkCommand(a),
    cc: (a) => ccCommand(a),
    launch: launchCommand,
    run: runCommand,
    build: buildCommand,
    init: initCommand,
    doctor: () => doctorCommand(),
  });
}
