import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { runCc } from '../cc/run-cc.js';
import { loadConfig } from '../config/load-config.js';
import { diagnosticLocation, failure, firstLines } from '../problems.js';
import { displayPath } from '../report/paths.js';
import { publishResults, reportingStops } from './shared-report.js';
import { reportsResults, takeWrapperOptions } from './wrapper-options.js';

/** hvci-build cc [--format F] [--report FILE] [--hvci-config FILE] [--verbose] <clang-cl arguments> */
export async function ccCommand(argv: string[], compiler?: string): Promise<number> {
  const cwd = process.cwd();
  const { options, rest } = takeWrapperOptions(argv, process.env);
  const reporting = reportsResults(options);
  const sources = sourcesOf(rest, cwd);
  const key = `compile ${sources.join(' ')}`;
  const r = await reportingStops(() => key, options, cwd, async () => {
    const config = await loadConfig(cwd, options.config);
    return runCc(rest, { cwd, env: process.env, config, verbose: options.verbose, capture: reporting, ...(compiler ? { compiler } : {}) });
  });
  if (!reporting) return r.exitCode;
  // A compile that passed clears its earlier failure from a shared report.
  if (r.exitCode === 0) {
    if (options.report) await publishResults(key, undefined, options, cwd);
    return r.exitCode;
  }
  const source = sources.map((s) => displayPath(s, cwd)).join(', ') || 'its inputs';
  const at = diagnosticLocation(r.stderr, cwd) ?? (sources[0] ? { file: sources[0] } : undefined);
  const problem = failure('compile-failed', { tool: basename(r.compiler), exitCode: r.exitCode, source, output: firstLines(r.stderr) }, at);
  await publishResults(key, { files: [], problems: [problem] }, options, cwd);
  return r.exitCode;
}

/** The source files of a clang-cl command line (an absolute Unix path looks like an option: it must exist). */
function sourcesOf(args: readonly string[], cwd: string): string[] {
  return args
    .filter((a) => /\.(c|cc|cpp|cxx|c\+\+)$/i.test(a) && !a.startsWith('-') && (!a.startsWith('/') || existsSync(a)))
    .map((a) => resolve(cwd, a));
}
