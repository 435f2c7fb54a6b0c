import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkFiles } from '../check-files.js';
import { NotRegularFileError } from '../files/discover.js';
import { escapeControls } from '../escape.js';
import { loadConfig } from '../config/load-config.js';
import { FORMATS, type Format } from '../report/index.js';
import { renderReport, wantsColor } from '../report/render.js';
import { exitCodeFor, makeReport } from '../report/summary.js';
import type { CheckReport } from '../report/types.js';
import { removeQuietly, writeOutputFile } from '../files/write-atomically.js';
import { snapshotDecoder } from '../callsites/iced.js';
import { EXIT, UsageError, writingFile } from './errors.js';
import { optionError } from './suggest.js';
import { BASELINE_HELP, CHECK_HELP } from './help.js';
import { configSuppressions, triage } from '../baseline/triage.js';
import { DEFAULT_BASELINE, readBaselineFile, writeBaselineFile } from './baseline-files.js';
import { printConfig } from './print-config.js';
import { progressReporter } from './progress.js';
import { colorFlag, parseMaxWarnings, parseMinWindows, parseRuleOverrides, tooManyWarnings } from './shared-options.js';

const CHECK_OPTIONS = {
  format: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
  // build's and the wrappers' name for it: the same option names in check and build.
  report: { type: 'string' },
  strict: { type: 'boolean' },
  rule: { type: 'string', multiple: true },
  'min-windows': { type: 'string' },
  config: { type: 'string', short: 'c' },
  jobs: { type: 'string', short: 'j' },
  quiet: { type: 'boolean', short: 'q' },
  'max-warnings': { type: 'string' },
  'include-notes': { type: 'boolean' },
  'allow-empty': { type: 'boolean' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  'no-callsites': { type: 'boolean' },
  'path-map': { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'write-baseline': { type: 'string' },
  'print-config': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `hvci-build baseline`: a check that records its findings as the baseline (check --write-baseline). */
export function baselineCommand(args: string[]): Promise<number> {
  return checkCommand(args, 'baseline');
}

export async function checkCommand(args: string[], mode: 'check' | 'baseline' = 'check'): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, tokens: true, options: CHECK_OPTIONS });
  } catch (err) {
    throw optionError(err, CHECK_OPTIONS);
  }
  const { values: given, positionals, tokens } = parsed;
  // --report is --output under build's name.
  const values = { ...given, output: given.output ?? given.report };
  if (values.help) {
    process.stdout.write(mode === 'baseline' ? BASELINE_HELP : CHECK_HELP);
    return EXIT.ok;
  }
  if (mode === 'check' && values.baseline !== undefined && values['write-baseline'] !== undefined) {
    throw new UsageError('--baseline and --write-baseline do not go together: write a baseline, or check against one');
  }
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${format}'`);
  const cliRules = parseRuleOverrides(values.rule ?? []);
  let jobs: number | undefined;
  if (values.jobs !== undefined) {
    jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive whole number, not '${values.jobs}'`);
  }
  const maxWarnings = parseMaxWarnings(values['max-warnings']);
  const color = colorFlag(tokens);
  const cliMinBuild = parseMinWindows(values['min-windows']);

  const cwd = process.cwd();
  const config = await loadConfig(cwd, values.config);
  const minWindowsBuild = cliMinBuild ?? config.minWindowsBuild;
  const baselineFile = values.baseline ?? config.baseline;
  if (values['print-config'] !== undefined) {
    const callsites = !values['no-callsites'] && config.callsites;
    const strict = values.strict ?? false;
    process.stdout.write(printConfig(config, values['print-config'], cwd, { rules: cliRules, strict, minWindowsBuild, callsites, baseline: baselineFile }));
    return EXIT.ok;
  }
  // `hvci-build baseline` with no path: the image the config's build section makes.
  const inputs = positionals.length === 0 && mode === 'baseline' && config.build ? [resolve(config.dir, config.build.output)] : positionals;
  if (inputs.length === 0) throw new UsageError(`${mode} needs at least one path (see hvci-build ${mode} --help)`);
  const writeBaseline = values['write-baseline'] ?? (mode === 'baseline' ? (baselineFile ?? DEFAULT_BASELINE) : undefined);
  // A broken baseline stops the run before the check, not after it.
  const baseline = writeBaseline === undefined && baselineFile !== undefined ? readBaselineFile(resolve(cwd, baselineFile)) : undefined;
  const progress = values['no-progress'] ? undefined : progressReporter(process.stderr);
  const checked = await checkFiles(inputs, {
    cwd,
    rules: { ...config.rules, ...cliRules },
    strict: values.strict ?? false,
    ...(minWindowsBuild !== undefined ? { minWindowsBuild } : {}),
    ignore: config.ignore,
    ignoreBase: config.dir,
    ...(jobs !== undefined ? { jobs } : {}),
    ...(values['no-callsites'] || !config.callsites ? { callsites: false } : {}),
    decoder: snapshotDecoder(),
    pathMap: [...config.pathMap, ...parsePathMap(values['path-map'] ?? [], cwd)],
    ...(progress ? { onProgress: progress.update } : {}),
  }).catch((err: unknown) => {
    // A FIFO, socket or device named on the command line: refused, not read.
    if (err instanceof NotRegularFileError) throw new UsageError(escapeControls(err.message));
    throw err;
  });
  progress?.done();

  const empty = checked.search?.empty ?? [];
  if (empty.length > 0 && !values['allow-empty']) {
    // No verdict on nothing: a wrong path in a CI job must fail it, not pass it. A report
    // left at --output by an earlier run must not pass for this one's either.
    if (values.output) removeQuietly(values.output);
    const what = empty.map((e) => `${e.kind} '${escapeControls(e.input)}' ${e.kind === 'glob' ? 'matches' : 'holds'} no PE image`);
    throw new UsageError(`${what.join('; ')} (--allow-empty to accept that)`);
  }
  let written: ReturnType<typeof writeBaselineFile> | undefined;
  if (writeBaseline !== undefined) {
    written = writeBaselineFile(writeBaseline, checked.files);
    const n = written.data.findings.reduce((sum, e) => sum + e.count, 0);
    const files = checked.files.length;
    process.stderr.write(`hvci-build: wrote ${n} finding${n === 1 ? '' : 's'} of ${files} file${files === 1 ? '' : 's'} to the baseline ${escapeControls(writeBaseline)}\n`);
  }
  // Suppressions and the baseline: a stage between the engine and the reporters (src/baseline/).
  const against = written ?? baseline;
  const report = triage(checked, {
    cwd,
    ...(against ? { baseline: against } : {}),
    ...configSuppressions(config),
  });

  const warnings = report.summary.warnings;
  const shown = values.quiet ? errorsOnly(report) : report;
  const text = await renderReport(shown, format, {
    cwd,
    // Colour for text on a terminal; --color asks for it anywhere, --no-color never.
    color: format === 'text' && (color ?? (!values.output && wantsColor(process.stdout))),
    includeNotes: values['include-notes'] ?? false,
  });
  if (values.output) {
    const output = values.output;
    writingFile(output, () => writeOutputFile(output, text));
  } else {
    process.stdout.write(text);
  }
  const code = exitCodeFor(report);
  if (code === EXIT.ok && tooManyWarnings(warnings, maxWarnings)) return EXIT.findings;
  return code;
}

/** The report with error-level findings only (--quiet); the summary counts what is shown. */
function errorsOnly(report: CheckReport): CheckReport {
  const files = report.files.map((f) => ({ ...f, findings: f.findings.filter((x) => x.severity === 'error') }));
  return { ...makeReport(files, report.search), ...(report.triage ? { triage: report.triage } : {}) };
}

/** `--path-map FROM=TO`: a build-machine prefix and the directory here (relative to cwd) it stands for. */
function parsePathMap(list: string[], cwd: string): { from: string; to: string }[] {
  return list.map((item) => {
    const eq = item.lastIndexOf('=');
    if (eq <= 0) throw new UsageError(`--path-map must be FROM=TO (a build-machine path prefix and a directory here), not '${item}'`);
    return { from: item.slice(0, eq), to: resolve(cwd, item.slice(eq + 1)) };
  });
}

