import { parseArgs } from 'node:util';
import { runBuild } from '../build/run-build.js';
import { StepError } from '../build/import-libs.js';
import { loadConfig } from '../config/load-config.js';
import { displayPath } from '../report/paths.js';
import { UsageError } from './errors.js';
import { optionError } from './suggest.js';
import { BUILD_HELP } from './help.js';
import { printLinkOutcome, waitNotice } from './link-report.js';
import { receivedSignal } from '../process/signals.js';
import { reportsResults, takeWrapperOptions } from './wrapper-options.js';
import { publishResults, reportingStops } from './shared-report.js';
import { failure } from '../problems.js';
import { resolve } from 'node:path';
import { colorFlag, parseMaxWarnings, parseMinWindows, parseRuleOverrides, tooManyWarnings } from './shared-options.js';

const BUILD_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'hvci-config': { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  format: { type: 'string', short: 'f' },
  // check's name for the report file, and the wrappers' (--report, HVCI_REPORT).
  output: { type: 'string', short: 'o' },
  report: { type: 'string' },
  'include-notes': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'max-warnings': { type: 'string' },
  strict: { type: 'boolean' },
  rule: { type: 'string', multiple: true },
  'min-windows': { type: 'string' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  verbose: { type: 'boolean' },
  'no-callsites': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** hvci-build build [options]: see BUILD_HELP; the options it shares with check mean the same. */
export async function buildCommand(argv: string[]): Promise<number> {
  const { options } = takeWrapperOptions([], process.env);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, tokens: true, options: BUILD_OPTIONS });
  } catch (err) {
    throw optionError(err, BUILD_OPTIONS);
  }
  const { values, tokens } = parsed;
  if (values.help) {
    process.stdout.write(BUILD_HELP);
    return 0;
  }
  // Options in any order; the environment's HVCI_* values are the defaults.
  const merged = takeWrapperOptions(
    [
      ...(values.format ? ['--format', values.format] : []),
      ...(values.output ?? values.report ? ['--report', (values.output ?? values.report)!] : []),
      ...(values['include-notes'] ? ['--include-notes'] : []),
      ...(values.verbose ? ['--verbose'] : []),
      ...(values['no-callsites'] ? ['--no-callsites'] : []),
    ],
    process.env,
  ).options;
  Object.assign(options, merged);
  options.config = values.config ?? values['hvci-config'] ?? options.config;
  options.quiet = values.quiet === true;
  const color = colorFlag(tokens);
  if (color !== undefined) options.color = color;
  const maxWarnings = parseMaxWarnings(values['max-warnings']);
  const cliRules = parseRuleOverrides(values.rule ?? []);
  const cliMinBuild = parseMinWindows(values['min-windows']);
  const jobs = values.jobs !== undefined ? Number(values.jobs) : undefined;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UsageError(`--jobs must be a positive whole number, not '${values.jobs}'`);
  const cwd = process.cwd();
  // The report's key for this build: its image, once the config says which.
  const unknown = `build in ${cwd}`;
  let key = unknown;
  const config = await reportingStops(() => key, options, cwd, () => loadConfig(cwd, options.config));
  if (config.build) key = resolve(config.dir, config.build.output);
  // A broken config reported under no image before is fixed now.
  if (key !== unknown && options.report) await publishResults(unknown, undefined, options, cwd);
  if (!options.callsites) config.callsites = false;
  // As in check: this run's rules and lowest Windows version over the config's.
  Object.assign(config.rules, cliRules);
  if (cliMinBuild !== undefined) config.minWindowsBuild = cliMinBuild;
  const tty = process.stderr.isTTY === true;
  try {
    const outcome = await reportingStops(() => key, options, cwd, () =>
      runBuild(config, {
        ...(jobs !== undefined ? { jobs } : {}),
        ...(values.strict ? { strict: true } : {}),
        capture: reportsResults(options),
        onWait: waitNotice('hvci-build build', cwd),
        onStep(kind, what, done, total) {
          if (tty || options.verbose) process.stderr.write(`[${done}/${total}] ${kind} ${what}\n`);
        },
      }),
    );
    if (outcome.link) await printLinkOutcome(outcome.link, options, cwd, 'hvci-build build');
    // Nothing rebuilt: the report still says what the image's last link found.
    else if (outcome.results) await publishResults(outcome.output, outcome.results, options, cwd);
    if (outcome.link?.interrupted) return outcome.exitCode;
    if (!outcome.linked) process.stderr.write(`hvci-build build: ${displayPath(outcome.output, cwd)} is up to date\n`);
    else if (outcome.exitCode === 0) process.stderr.write(`hvci-build build: built ${displayPath(outcome.output, cwd)} (${outcome.compiled} compiled), memory integrity checks passed\n`);
    const warnings = outcome.results?.files.flatMap((f) => f.findings).filter((f) => f.severity === 'warning').length ?? 0;
    if (outcome.exitCode === 0 && tooManyWarnings(warnings, maxWarnings)) return 1;
    return outcome.exitCode;
  } catch (err) {
    const signal = receivedSignal();
    if (err instanceof StepError && signal) {
      // The tools were stopped by the signal passed on to them: their messages say no more.
      process.stderr.write(`hvci-build build: interrupted by ${signal}\n`);
      await publishResults(key, { files: [], problems: [failure('interrupted', { signal, image: displayPath(key, cwd) })] }, options, cwd);
      return 1;
    }
    if (err instanceof StepError) {
      if (err.output.trim()) process.stderr.write(err.output.endsWith('\n') ? err.output : `${err.output}\n`);
      process.stderr.write(`hvci-build build: ${err.message}\n`);
      await publishResults(key, { files: [], problems: [err.problem] }, options, cwd);
      return 1;
    }
    throw err;
  }
}
