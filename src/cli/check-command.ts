import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkFiles } from '../check-files.js';
import { NotRegularFileError } from '../files/discover.js';
import { escapeControls } from '../escape.js';
import { loadConfig } from '../config/load-config.js';
import { parseWindowsVersion, WINDOWS_VERSION_FORMS } from '../windows-version.js';
import type { SeveritySetting } from '../findings.js';
import { FORMATS, type Format } from '../report/index.js';
import { renderReport, wantsColor } from '../report/render.js';
import { exitCodeFor } from '../report/summary.js';
import { snapshotDecoder } from '../callsites/iced.js';
import { RULES_BY_ID } from '../rules/index.js';
import { EXIT, UsageError } from './errors.js';
import { CHECK_HELP } from './help.js';
import { progressReporter } from './progress.js';

const SETTINGS: readonly string[] = ['off', 'note', 'warning', 'error'];

export async function checkCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string', short: 'f' },
        output: { type: 'string', short: 'o' },
        strict: { type: 'boolean' },
        rule: { type: 'string', multiple: true },
        'min-windows': { type: 'string' },
        config: { type: 'string', short: 'c' },
        jobs: { type: 'string', short: 'j' },
        'no-progress': { type: 'boolean' },
        'no-callsites': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split(/\n|\. To /)[0]!);
  }
  const { values, positionals } = parsed;
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

  const text = await renderReport(report, format, {
    cwd,
    color: format === 'text' && !values.output && wantsColor(process.stdout),
  });
  if (values.output) {
    try {
      writeFileSync(values.output, text);
    } catch (err) {
      throw new UsageError(`cannot write --output ${values.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else {
    process.stdout.write(text);
  }
  return exitCodeFor(report);
}

function parseRuleOverrides(list: string[]): Record<string, SeveritySetting> {
  const out: Record<string, SeveritySetting> = {};
  for (const item of list) {
    const m = /^([\w-]+)=(\w+)$/.exec(item);
    if (!m) throw new UsageError(`--rule expects id=severity, not '${item}'`);
    const [, id, setting] = m as unknown as [string, string, string];
    if (!RULES_BY_ID.has(id)) throw new UsageError(`--rule: unknown rule '${id}' (see hvci-build rules)`);
    if (!SETTINGS.includes(setting)) throw new UsageError(`--rule ${id}: severity must be one of ${SETTINGS.join(', ')}, not '${setting}'`);
    out[id] = setting as SeveritySetting;
  }
  return out;
}
