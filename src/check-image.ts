import { analyseCallSites } from './callsites/index.js';
import type { ArgValue, FileResult, Finding, Severity } from './findings.js';
import { MalformedImageError, hex } from './pe/errors.js';
import { parseImage, type PeImage } from './pe/image.js';
import { bufferSource, fileSource, type ByteSource } from './pe/source.js';
import { RULES, RULES_BY_ID } from './rules/index.js';
import { CALLSITE_TARGETS } from './rules/unknown-pool-type.js';
import type { Detection, RuleContext } from './rules/types.js';
import { finalSeverity, type SeverityPolicy } from './severity.js';

export interface CheckOptions {
  /** Severity per rule id ('off' to disable); applied over the defaults. */
  rules?: Readonly<Record<string, Severity | 'off'>>;
  /** Turn warnings into errors. */
  strict?: boolean;
  /** Lowest Windows version the driver supports, e.g. '1607', '1703', '10.0.15063'. */
  minWindowsBuild?: number;
  /** Analyse the calls to allocation and mapping DDIs in the code (default true). */
  callsites?: boolean;
}

/** The rules that read call-site analysis; when all are off, the analysis is skipped. */
const CALLSITE_RULES = ['exec-pool-type', 'exec-page-protection', 'exec-mdl-mapping', 'unknown-pool-type'];

/**
 * Checks one image, given as a path or as its bytes, and returns the findings.
 * Never throws for a bad image: an inconsistent file gives one `malformed`
 * finding, an unreadable one an `unreadable` finding.
 */
export function checkImage(input: string | Uint8Array, options: CheckOptions = {}, displayPath?: string): FileResult {
  const path = displayPath ?? (typeof input === 'string' ? input : '<buffer>');
  const policy: SeverityPolicy = { overrides: options.rules ?? {}, strict: options.strict ?? false };
  const findings: Finding[] = [];
  const emit = (rule: string, d: Detection): void => {
    const meta = RULES_BY_ID.get(rule)!.meta;
    const severity = finalSeverity(policy, rule, d.defaultSeverity ?? meta.defaultSeverity);
    if (severity === 'off') return;
    const finding: Finding = { rule, severity, message: formatMessage(meta.message, d.args), args: d.args };
    if (d.section !== undefined) finding.section = d.section;
    if (d.rva !== undefined) finding.rva = d.rva;
    if (d.offset !== undefined) finding.offset = d.offset;
    if (d.length !== undefined) finding.length = d.length;
    findings.push(finding);
  };

  let src: ByteSource;
  try {
    src = typeof input === 'string' ? fileSource(input) : bufferSource(input);
  } catch (err) {
    emit('unreadable', { args: { reason: describeIoError(err) } });
    return { path, findings };
  }
  let image: PeImage;
  try {
    const parsed = parseImage(src);
    if (!parsed.ok) {
      emit('malformed', malformedDetection(parsed.error));
      return { path, findings };
    }
    image = parsed.image;
    if (options.callsites !== false && CALLSITE_RULES.some((id) => finalSeverity(policy, id, RULES_BY_ID.get(id)!.meta.defaultSeverity) !== 'off')) {
      analyseCode(src, image, typeof input === 'string' ? input : undefined);
    }
  } catch (err) {
    emit('unreadable', { args: { reason: describeIoError(err) } });
    return { path, findings };
  } finally {
    src.close();
  }

  const ctx: RuleContext = { minWindowsBuild: options.minWindowsBuild };
  for (const rule of RULES) {
    if (!rule.check) continue;
    for (const d of rule.check(image, ctx)) emit(rule.meta.id, d);
  }
  for (const what of image.skipped) emit('skipped-check', { args: { what } });
  return { path, findings };
}

/** Call-site analysis, reading the code while the image is open. Code bytes cannot make the check fail. */
function analyseCode(src: ByteSource, image: PeImage, path: string | undefined): void {
  try {
    image.callSites = analyseCallSites(src, image, CALLSITE_TARGETS, path !== undefined ? { path } : {});
    if (image.callSites.incomplete) image.skipped.push(image.callSites.incomplete);
  } catch (err) {
    image.skipped.push(`call-site analysis of the code failed (${err instanceof Error ? err.message : String(err)}); its rules were not checked`);
  }
}

function malformedDetection(err: MalformedImageError): Detection {
  return {
    offset: err.offset,
    length: 1,
    args: { problem: err.message, field: err.field, fieldOffset: hex(err.offset) },
  };
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    const reasons: Record<string, string> = {
      ENOENT: 'no such file',
      EACCES: 'permission denied',
      EISDIR: 'is a directory',
      EPERM: 'operation not permitted',
    };
    return reasons[e.code] ?? `${e.code}${e.message ? `: ${e.message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Fills `{name}` placeholders; lists are joined with commas. */
export function formatMessage(template: string, args: Readonly<Record<string, ArgValue>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = args[name];
    if (v === undefined) return whole;
    return Array.isArray(v) ? v.join(', ') : String(v);
  });
}
