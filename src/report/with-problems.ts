import { escapeControls } from '../escape.js';
import type { FileResult, Finding } from '../findings.js';
import { fingerprint, imageId } from '../fingerprint.js';
import { FAILURES, REFUSED_FLAG_META, REFUSED_FLAG_RULE, type BuildProblem, type FailureId, type StepResults } from '../problems.js';
import { escapeData, escapeProperty } from './github.js';
import type { Format } from './index.js';
import { displayPath } from './paths.js';
import { renderReport } from './render.js';
import { makeReport } from './summary.js';
import type { ReportOptions } from './types.js';

/**
 * The report of the build wrappers: the findings of the images, rendered as `check` renders
 * them, and the wrappers' own problems (refused flags, failed steps), each an error:
 * - text: `file:line: error id: message` lines before the findings;
 * - github: `::error` annotations, at the config file and line of a refused flag;
 * - json: a `problems` array beside `files`;
 * - sarif: a refusal is a result (under the image rule it would break, else
 *   link-flag-refused) located at the config key or response file it came from; a failed
 *   step is an error in the invocation's `toolExecutionNotifications`, and the invocation
 *   has `executionSuccessful: false`.
 * The summary's error count includes the problems. Text leaves notes out unless includeNotes;
 * errorsOnly (--quiet) leaves out all but errors.
 */
export async function renderStepResults(
  results: readonly StepResults[],
  format: Format,
  options: Omit<ReportOptions, 'toolVersion'> & { errorsOnly?: boolean },
): Promise<string> {
  const { errorsOnly, ...reportOptions } = options;
  const report = makeReport(shownFiles(results.flatMap((r) => r.files), format, options.includeNotes === true, errorsOnly === true));
  const problems = results.flatMap((r) => r.problems);
  report.summary.errors += problems.length;
  const rendered = await renderReport(report, format, reportOptions);
  if (problems.length === 0) return rendered;
  switch (format) {
    case 'text':
      return problems.map((p) => textLine(p, options.cwd)).join('\n') + '\n\n' + rendered;
    case 'github':
      return problems.map((p) => annotation(p, options.cwd)).join('\n') + '\n' + rendered;
    case 'json': {
      const doc = JSON.parse(rendered) as Record<string, unknown>;
      doc.problems = problems.map((p) => jsonProblem(p, options.cwd));
      return JSON.stringify(doc, null, 2) + '\n';
    }
    case 'sarif':
      // Loaded already, by the SARIF reporter.
      return addToSarif(rendered, problems, options.cwd, await import('./sarif.js'));
  }
}

/** The findings a report shows: text is a build log, with notes only when asked for; --quiet: errors only. */
export function shownFiles(files: readonly FileResult[], format: Format, includeNotes: boolean, errorsOnly: boolean): FileResult[] {
  const hidden = (x: Finding): boolean => (errorsOnly && x.severity !== 'error') || (format === 'text' && !includeNotes && x.severity === 'note');
  return files.map((f) => ({ ...f, findings: f.findings.filter((x) => !hidden(x)) }));
}

/** The id a problem is shown under: the image rule a refused flag breaks, or its own. */
function shownRule(p: BuildProblem): string {
  return p.kind === 'refusal' ? (p.rule ?? REFUSED_FLAG_RULE) : p.id;
}

function where(p: BuildProblem, cwd: string): string {
  if (!p.location) return '';
  const key = p.location.key ? ` (${p.location.key})` : '';
  return `${displayPath(p.location.file, cwd)}${p.location.line !== undefined ? `:${p.location.line}` : ''}${key}: `;
}

function textLine(p: BuildProblem, cwd: string): string {
  // A tool's output lines follow the message, indented.
  const message = escapeControls(p.message, true).replace(/\n/g, '\n    ');
  return `${escapeControls(where(p, cwd))}error ${shownRule(p)}: ${message}`;
}

function annotation(p: BuildProblem, cwd: string): string {
  const props: string[] = [];
  if (p.location) {
    props.push(`file=${escapeProperty(escapeControls(displayPath(p.location.file, cwd), true))}`);
    if (p.location.line !== undefined) props.push(`line=${p.location.line}`);
  }
  props.push(`title=${escapeProperty(`hvci-build ${shownRule(p)}`)}`);
  const key = p.location?.key ? ` (${p.location.key})` : '';
  return `::error ${props.join(',')}::${escapeData(escapeControls(p.message + key, true))}`;
}

function jsonProblem(p: BuildProblem, cwd: string): unknown {
  return {
    kind: p.kind,
    id: p.id,
    ...(p.rule ? { rule: p.rule } : {}),
    severity: 'error',
    message: p.message,
    ...(p.location
      ? { location: { file: displayPath(p.location.file, cwd), ...(p.location.line !== undefined ? { line: p.location.line } : {}), ...(p.location.key ? { key: p.location.key } : {}) } }
      : {}),
    args: p.args,
  };
}

interface SarifRun {
  tool: { driver: { rules: { id: string }[]; notifications?: unknown[] } };
  invocations: { executionSuccessful: boolean; toolExecutionNotifications?: unknown[] }[];
  results: unknown[];
}

function addToSarif(rendered: string, problems: readonly BuildProblem[], cwd: string, sarifApi: SarifHelpers): string {
  const doc = JSON.parse(rendered) as { runs: SarifRun[] };
  const run = doc.runs[0]!;
  const rules = run.tool.driver.rules;
  const ruleIndex = (id: string): number => {
    let i = rules.findIndex((r) => r.id === id);
    if (i < 0 && id === REFUSED_FLAG_RULE) i = rules.push(sarifApi.reportingDescriptor(REFUSED_FLAG_META) as { id: string }) - 1;
    return i;
  };
  const invocation = run.invocations[0]!;
  const descriptors: { id: string }[] = [];
  for (const p of problems) {
    const locations = p.location ? [sarifLocation(p, cwd, sarifApi)] : undefined;
    if (p.kind === 'refusal') {
      const id = shownRule(p);
      const index = ruleIndex(id);
      // Stable across checkouts: the file relative to cwd, the key or flag, never a line number.
      const file = p.location ? imageId(p.location.file, cwd) : '';
      const fp = fingerprint(file, `refusal\0${p.id}\0${p.location?.key ?? ''}\0${String(p.args.flag ?? '')}`, 1);
      run.results.push({
        ruleId: id,
        ...(index >= 0 ? { ruleIndex: index } : {}),
        level: 'error',
        message: { text: p.message },
        ...(locations ? { locations } : {}),
        partialFingerprints: { [sarifApi.FINGERPRINT_KEY]: fp, primaryLocationLineHash: `${fp.slice(0, 16)}:1` },
        properties: { refusal: p.id, args: p.args },
      });
      continue;
    }
    let index = descriptors.findIndex((d) => d.id === p.id);
    if (index < 0) index = descriptors.push(failureDescriptor(p.id)) - 1;
    invocation.executionSuccessful = false;
    (invocation.toolExecutionNotifications ??= []).push({
      level: 'error',
      message: { text: p.message },
      descriptor: { id: p.id, index },
      ...(locations ? { locations } : {}),
      properties: { args: p.args },
    });
  }
  if (descriptors.length > 0) run.tool.driver.notifications = descriptors;
  return JSON.stringify(doc, null, 2) + '\n';
}

/** A failure's notification descriptor, with what code scanning requires of one (GH2012). */
function failureDescriptor(id: string): { id: string; [property: string]: unknown } {
  const summary = FAILURES[id as FailureId]?.summary ?? id;
  return {
    id,
    shortDescription: { text: summary },
    fullDescription: { text: `${summary}: the build did not make a checked image. The notification quotes the tool's own message.` },
    help: { text: 'Fix what the tool reports and build again; until then the report has no verdict on the image.' },
  };
}

type SarifHelpers = typeof import('./sarif.js');

function sarifLocation(p: BuildProblem, cwd: string, api: SarifHelpers): unknown {
  const loc = p.location!;
  return {
    physicalLocation: { artifactLocation: api.artifactRef(loc.file, cwd).location, region: { startLine: loc.line ?? 1 } },
    ...(loc.key ? { logicalLocations: [{ fullyQualifiedName: loc.key, kind: 'member' }] } : {}),
  };
}
