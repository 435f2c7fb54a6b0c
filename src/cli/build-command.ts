import { parseArgs } from 'node:util';
import { runBuild } from '../build/run-build.js';
import { StepError } from '../build/import-libs.js';
import { loadConfig } from '../config/load-config.js';
import { displayPath } from '../report/paths.js';
import { UsageError } from './errors.js';
import { printLinkOutcome } from './link-report.js';
import { takeWrapperOptions } from './wrapper-options.js';

/** hvci-build build [--format F] [--report FILE] [-c FILE] [-j N] [--verbose] */
export async function buildCommand(argv: string[]): Promise<number> {
  const { options, rest } = takeWrapperOptions(argv, process.env);
  let values;
  try {
    values = parseArgs({ args: rest, strict: true, options: { config: { type: 'string', short: 'c' }, jobs: { type: 'string', short: 'j' } } }).values;
  } catch (err) {
    throw new UsageError((err as Error).message.split(/\n|\. To /)[0]!);
  }
  const jobs = values.jobs !== undefined ? Number(values.jobs) : undefined;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UsageError(`--jobs must be a positive whole number, not '${values.jobs}'`);
  const cwd = process.cwd();
  const config = await loadConfig(cwd, values.config ?? options.config);
  if (!options.callsites) config.callsites = false;
  const tty = process.stderr.isTTY === true;
  try {
    const outcome = await runBuild(config, {
      ...(jobs !== undefined ? { jobs } : {}),
      onStep(kind, what, done, total) {
        if (tty || options.verbose) process.stderr.write(`[${done}/${total}] ${kind} ${what}\n`);
      },
    });
    if (outcome.link) await printLinkOutcome(outcome.link, options, cwd, 'hvci-build build');
    if (!outcome.linked) process.stderr.write(`hvci-build build: ${displayPath(outcome.output, cwd)} is up to date\n`);
    else if (outcome.exitCode === 0) process.stderr.write(`hvci-build build: built ${displayPath(outcome.output, cwd)} (${outcome.compiled} compiled), memory integrity checks passed\n`);
    return outcome.exitCode;
  } catch (err) {
    if (err instanceof StepError) {
      if (err.output.trim()) process.stderr.write(err.output.endsWith('\n') ? err.output : `${err.output}\n`);
      process.stderr.write(`hvci-build build: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
