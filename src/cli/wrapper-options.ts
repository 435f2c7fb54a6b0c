import { resolve } from 'node:path';
import { FORMATS, type Format } from '../report/index.js';
import { UsageError } from './errors.js';

export interface WrapperOptions {
  format: Format;
  report: string | undefined;
  config: string | undefined;
  verbose: boolean;
  /** false with --no-callsites or HVCI_CALLSITES=0: only the header rules. */
  callsites: boolean;
  /** --include-notes or HVCI_INCLUDE_NOTES=1: notes as GitHub annotations, SARIF results and in text, as in check. */
  includeNotes: boolean;
  /** build --quiet: errors only, as check --quiet. */
  quiet?: boolean;
  /** build --color / --no-color: colour in the build log, decided over the terminal and NO_COLOR. */
  color?: boolean;
}

/**
 * hvci-build's own options for the link and cc wrappers, which must not reach
 * the real tool: taken from the front of the command line (lld-link and
 * clang-cl have no --format, --report or --hvci-config), or from HVCI_FORMAT,
 * HVCI_REPORT, HVCI_CONFIG, HVCI_VERBOSE, HVCI_INCLUDE_NOTES=1 and HVCI_CALLSITES=0 for build systems that call the
 * wrapper by path.
 */
export function takeWrapperOptions(argv: readonly string[], env: NodeJS.ProcessEnv): { options: WrapperOptions; rest: string[] } {
  const options: WrapperOptions = {
    format: (env.HVCI_FORMAT as Format | undefined) ?? 'text',
    report: env.HVCI_REPORT || undefined,
    config: env.HVCI_CONFIG || undefined,
    verbose: env.HVCI_VERBOSE === '1',
    callsites: env.HVCI_CALLSITES !== '0',
    includeNotes: env.HVCI_INCLUDE_NOTES === '1',
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(format|report|hvci-config)(?:=(.*))?$/.exec(a);
    if (m) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) throw new UsageError(`${a} needs a value`);
      if (m[1] === 'format') options.format = value as Format;
      else if (m[1] === 'report') options.report = value;
      else options.config = value;
    } else if (a === '--verbose') {
      options.verbose = true;
    } else if (a === '--no-callsites') {
      options.callsites = false;
    } else if (a === '--include-notes') {
      options.includeNotes = true;
    } else if (a === '--') {
      i++;
      break;
    } else {
      break;
    }
  }
  if (!FORMATS.includes(options.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${options.format}'`);
  return { options, rest: argv.slice(i) };
}

/** Whether the results go into a report (a file or a format other than the log's text): a tool's error output is then kept as well as shown. */
export function reportsResults(options: WrapperOptions): boolean {
  return options.format !== 'text' || options.report !== undefined;
}

/** The environment that gives wrappers started by path (run's shims) these options: what takeWrapperOptions reads. */
export function wrapperOptionsEnv(options: WrapperOptions, cwd: string): NodeJS.ProcessEnv {
  return {
    HVCI_FORMAT: options.format,
    ...(options.report ? { HVCI_REPORT: resolve(cwd, options.report) } : {}),
    ...(options.config ? { HVCI_CONFIG: resolve(cwd, options.config) } : {}),
    ...(options.verbose ? { HVCI_VERBOSE: '1' } : {}),
    ...(options.includeNotes ? { HVCI_INCLUDE_NOTES: '1' } : {}),
    ...(options.callsites ? {} : { HVCI_CALLSITES: '0' }),
  };
}
