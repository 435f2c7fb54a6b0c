import { loadConfig } from '../config/load-config.js';
import { readLinkArgs } from '../link/args.js';
import { linkOutputPath } from '../link/output-path.js';
import { runLink } from '../link/run-link.js';
import { linkKey, printLinkOutcome, waitNotice } from './link-report.js';
import { publishResults, reportingStops } from './shared-report.js';
import { reportsResults, takeWrapperOptions } from './wrapper-options.js';

/** hvci-build link [--format F] [--report FILE] [--include-notes] [--hvci-config FILE] [--verbose] <lld-link arguments> */
export async function linkCommand(argv: string[], linker?: string): Promise<number> {
  const cwd = process.cwd();
  const { options, rest } = takeWrapperOptions(argv, process.env);
  // The linker's error goes into a report too, so it is kept as well as shown.
  const capture = reportsResults(options);
  const key = (): string => linkKey(linkOutputPath(readLinkArgs(rest), cwd), cwd);
  const outcome = await reportingStops(key, options, cwd, async () => {
    const config = await loadConfig(cwd, options.config);
    if (!options.callsites) config.callsites = false;
    return runLink(rest, { cwd, env: process.env, config, capture, onWait: waitNotice('hvci-build link', cwd), ...(linker ? { linker } : {}) });
  });
  await printLinkOutcome(outcome, options, cwd);
  // A stop reported before the output was known (a missing response file, say) is over.
  if (options.report && outcome.output && key() !== outcome.output) await publishResults(key(), undefined, options, cwd);
  return outcome.exitCode;
}
