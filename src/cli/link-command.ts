import { writeFileSync } from 'node:fs';
import { loadConfig } from '../config/load-config.js';
import { runLink } from '../link/run-link.js';
import { renderReport, wantsColor } from '../report/render.js';
import { makeReport } from '../report/summary.js';
import { displayPath } from '../report/paths.js';
import { takeWrapperOptions } from './wrapper-options.js';

/** hvci-build link [--format F] [--report FILE] [--config FILE] [--verbose] <lld-link arguments> */
export async function linkCommand(argv: string[], linker?: string): Promise<number> {
  const cwd = process.cwd();
  const { options, rest } = takeWrapperOptions(argv, process.env);
  const config = await loadConfig(cwd, options.config);
  const outcome = await runLink(rest, { cwd, env: process.env, config, ...(linker ? { linker } : {}) });
  for (const n of outcome.notices) {
    if (options.verbose || n.startsWith('allowed by config')) process.stderr.write(`hvci-build link: note: ${n}\n`);
  }
  for (const e of outcome.refused) process.stderr.write(`hvci-build link: error: ${e}\n`);
  if (outcome.refused.length > 0) {
    process.stderr.write('hvci-build link: nothing was linked; see `hvci-build explain <rule>`, or allow it in the config (link.allowMerges / link.allowSections)\n');
    return outcome.exitCode;
  }
  if (outcome.result) {
    const shown = { ...outcome.result, findings: outcome.result.findings.filter((f) => f.severity !== 'note' || options.format !== 'text') };
    const report = makeReport([shown]);
    if (shown.findings.length > 0 || options.report) {
      const text = await renderReport(report, options.format, {
        cwd,
        color: options.format === 'text' && !options.report && wantsColor(process.stderr),
      });
      if (options.report) writeFileSync(options.report, text);
      else if (shown.findings.length > 0) (options.format === 'text' ? process.stderr : process.stdout).write(text);
    }
    if (outcome.rejected && outcome.output) {
      const where = outcome.rejectedTo ? `moved to ${displayPath(outcome.rejectedTo, cwd)}` : 'deleted';
      process.stderr.write(`hvci-build link: ${displayPath(outcome.output, cwd)} fails memory integrity checks; ${where}\n`);
    }
  }
  return outcome.exitCode;
}


