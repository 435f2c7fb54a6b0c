import { parseArgs } from 'node:util';
import { checkFiles } from '../check-files.js';
import { NotRegularFileError } from '../files/discover.js';
import { escapeControls } from '../escape.js';
import { loadConfig } from '../config/load-config.js';
import { parseWindowsVersion, WINDOWS_VERSION_FORMS } from '../windows-version.js';
import type { SeveritySetting } from '../findings.js';
import { FORMATS, type Format } from '../report/index.js';
import { renderReport, wantsColor } from '../report/render.js';
import { exitCodeFor, makeReport } from '../report/summary.js';
import type { CheckReport } from '../report/types.js';
import { removeQuietly, writeOutputFile } from '../files/write-atomically.js';
import { snapshotDecoder } from '../callsites/iced.js';
import { RULES_BY_ID } from '../rules/index.js';
import { EXIT, UsageError, writingFile } from './errors.js';
import { didYouMean, optionError } from './suggest.js';
import { CHECK_HELP } from './help.js';
import { progressReporter } from './progress.js';
import { colorFlag, parseMaxWarnings, tooManyWarnings } from './gate-options.js';

const SETTINGS: readonly string[] = ['off', 'note', 'warning', 'error'];

const CHECK_OPTIONS = {
  format: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
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
  help: { type: 'boolean', short: 'h' },
} as const;

export async function checkCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, tokens: true, options: CHECK_OPTIONS });
  } catch (err) {
    throw optionError(err, CHECK_OPTIONS);
  }
  const { values, positionals, tokens } = parsed;
  if (values.help) {
    process.stdout.write(CHECK_HELP);
    return EXIT.ok;
  }
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${format}'`);
  if (positionals.length === 0) throw new UsageError('check needs at least one path (see hvci-build check --help)');
  const cliRules = parseRuleOverrides(values.rule ?? []);
  let jobs: number | undefined;
  if (values.jobs !== undefined) {
    jobs = Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a positive whole number, not '${values.jobs}'`);
  }
  const maxWarnings = parseMaxWarnings(values['max-warnings']);
  const color = colorFlag(tokens);
  let cliMinBuild: number | undefined;
  if (values['min-windows'] !== undefined) {
    cliMinBuild = parseWindowsVersion(values['min-windows']);
    if (cliMinBuild === undefined) throw new UsageError(`--min-windows '${values['min-windows']}' is not ${WINDOWS_VERSION_FORMS}`);
  }

  const cwd = process.cwd();
  const config = await loadConfig(cwd, values.config);
  const minWindowsBuild = cliMinBuild ?? config.minWindowsBuild;
  const progress = values['no-progress'] ? undefined : progressReporter(process.stderr);
  const report = await checkFiles(positionals, {
    cwd,
    rules: { ...config.rules, ...cliRules },
    strict: values.strict ?? false,
    ...(minWindowsBuild !== undefined ? { minWindowsBuild } : {}),
    ignore: config.ignore,
    ignoreBase: config.dir,
    ...(jobs !== undefined ? { jobs } : {}),
    ...(values['no-callsites'] || !config.callsites ? { callsites: false } : {}),
    decoder: snapshotDecoder(),
    ...(progress ? { onProgress: progress.update } : {}),
  }).catch((err: unknown) => {
    // A FIFO, socket or device named on the command line: refused, not read.
    if (err instanceof NotRegularFileError) throw new UsageError(escapeControls(err.message));
    throw err;
  });
  progress?.done();

  const empty = report.search?.empty ?? [];
  if (empty.length > 0 && !values['allow-empty']) {
    // No verdict on nothing: a wrong path in a CI job must fail it, not pass it. A report
    // left at --output by an earlier run must not pass for this one's either.
    if (values.output) removeQuietly(values.output);
    const what = empty.map((e) => `${e.kind} '${escapeControls(e.input)}' ${e.kind === 'glob' ? 'matches' : 'holds'} no PE image`);
    throw new UsageError(`${what.join('; ')} (--allow-empty to accept that)`);
  }

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
  return makeReport(files, report.search);
}

function parseRuleOverrides(list: string[]): Record<string, SeveritySetting> {
  const out: Record<string, SeveritySetting> = {};
  for (const item of list) {
    const m = /^([\w-]+)=(\w+)$/.exec(item);
    if (!m) throw new UsageError(`--rule expects id=severity, not '${item}'`);
    const [, id, setting] = m as unknown as [string, string, string];
    if (!RULES_BY_ID.has(id)) throw new UsageError(`--rule: unknown rule '${id}'${didYouMean(id, [...RULES_BY_ID.keys()])} (see hvci-build rules)`);
    if (!SETTINGS.includes(setting)) throw new UsageError(`--rule ${id}: severity must be one of ${SETTINGS.join(', ')}, not '${setting}'`);
    out[id] = setting as SeveritySetting;
  }
  return out;
}
