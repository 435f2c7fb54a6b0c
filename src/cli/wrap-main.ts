import { buildCommand } from './build-command.js';
import { ccCommand } from './cc-command.js';
import { doctorCommand } from './doctor-command.js';
import { initCommand } from './init-command.js';
import { launchCommand } from './launch-command.js';
import { linkCommand } from './link-command.js';
import { runCommand } from './run-command.js';
import { runCli, type Command } from './run-cli.js';
import { receivedSignal, signalExitCode, trapSignals } from '../process/signals.js';

/**
 * The commands that run a tool trap SIGINT, SIGTERM and SIGHUP: passed on to the tool,
 * which is waited for, then what it left is tidied up (../process/signals.ts), and the
 * command exits 128 + the signal's number, whatever it would have returned.
 */
const trapping = (command: Command): Command => (argv) => {
  trapSignals();
  return command(argv);
};

/** The commands that build (bundle dist/bundle/wrap-main.cjs); dist/bin/hvci-build.cjs sends these here. */
export async function run(argv: string[]): Promise<void> {
  await runCli(argv, {
    link: trapping((a) => linkCommand(a)),
    cc: trapping((a) => ccCommand(a)),
    launch: trapping(launchCommand),
    run: trapping(runCommand),
    build: trapping(buildCommand),
    init: initCommand,
    doctor: () => doctorCommand(),
  });
  const signal = receivedSignal();
  if (signal) process.exitCode = signalExitCode(signal);
}
