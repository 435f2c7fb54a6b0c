import { loadConfig } from '../config/load-config.js';
import { runLink } from '../link/run-link.js';
import { printLinkOutcome, waitNotice } from './link-report.js';
import { takeWrapperOptions } from './wrapper-options.js';

/** hvci-build link [--format F] [--report FILE] [--hvci-config FILE] [--verbose] <lld-link arguments> */
export async function linkCommand(argv: string[], linker?: string): Promise<number> {
  const cwd = process.cwd();
  const { options, rest } = takeWrapperOptions(argv, process.env);
  const config = await loadConfig(cwd, options.config);
  if (!options.callsites) config.callsites = false;
  const outcome = await runLink(rest, { cwd, env: process.env, config, onWait: waitNotice('hvci-build link', cwd), ...(linker ? { linker } : {}) });
  await printLinkOutcome(outcome, options, cwd);
  return outcome.exitCode;
}
