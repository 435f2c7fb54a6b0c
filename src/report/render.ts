import { loadReporter, type Format } from './index.js';
import type { CheckReport } from './types.js';

/** The report as text in one format; loads only that reporter (and the version only for SARIF). */
export async function renderReport(report: CheckReport, format: Format, options: { cwd: string; color: boolean }): Promise<string> {
  const reporter = await loadReporter(format);
  const toolVersion = format === 'sarif' ? (await import('../cli/version.js')).toolVersion() : '';
  return reporter(report, { ...options, toolVersion });
}

/** Colour for a stream: only a terminal, never with NO_COLOR set. */
export function wantsColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}
