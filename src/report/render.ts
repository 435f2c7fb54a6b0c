import { loadReporter, type Format } from './index.js';
import type { CheckReport, ReportOptions } from './types.js';

/** The report as text in one format; loads only that reporter (and the version only for SARIF). */
export async function renderReport(report: CheckReport, format: Format, options: Omit<ReportOptions, 'toolVersion'>): Promise<string> {
  const reporter = await loadReporter(format);
  const toolVersion = format === 'sarif' ? (await import('../cli/version.js')).toolVersion() : '';
  return reporter(report, { ...options, toolVersion });
}

/**
 * Colour for a stream: never with NO_COLOR set (no-color.org), always with FORCE_COLOR set
 * to anything but 0 or false (CI logs that render colour), else only on a terminal.
 */
export function wantsColor(stream: NodeJS.WriteStream): boolean {
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR.toLowerCase() !== 'false';
  return stream.isTTY === true;
}
