import { analyseCallSites, type CallSiteAnalysis, type CallTarget } from './callsites/index.js';
import type { DecoderProvider } from './callsites/iced.js';
import type { ArgValue, FileResult, Finding, Severity } from './findings.js';
import { capFindings } from './findings-cap.js';
import { readCodeView } from './pe/debug-directory.js';
import { MalformedImageError, hex } from './pe/errors.js';
import { parseImage, type PeImage } from './pe/image.js';
import { bufferSource, fileSource, type ByteSource } from './pe/source.js';
import { RULES, RULES_BY_ID } from './rules/index.js';
import type { Detection, Rule, RuleContext } from './rules/types.js';
import { finalSeverity, type SeverityPolicy } from './severity.js';
import { imageSymbols, type ImageSymbols, type PathMapping } from './symbols/index.js';

export interface CheckOptions {
  /** Severity per rule id ('off' to disable); applied over the defaults. */
  rules?: Readonly<Record<string, Severity | 'off'>>;
  /** Turn warnings into errors. */
  strict?: boolean;
  /** Lowest Windows version the driver supports, e.g. '1607', '1703', '10.0.15063'. */
  minWindowsBuild?: number;
  /** Analyse the calls to allocation and mapping DDIs in the code (default true). */
  callsites?: boolean;
  /**
   * Where the call-site analysis gets iced-x86. Default: its own glue, and no file is read
   * or written but the image (and a map or PDB beside it). The CLI passes snapshotDecoder(),
   * which keeps a start-up snapshot in the cache directory.
   */
  decoder?: DecoderProvider;
  /**
   * Source paths of the build machine, as the PDB records them, mapped to paths of this
   * checkout: the longest matching `from` prefix is replaced by its `to`.
   */
  pathMap?: readonly PathMapping[];
}

/**
 * A bug in hvci-build met while checking a file: not a verdict on the file. The CLI reports
 * it in one line with exit code 3.
 */
export class InternalCheckError extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    // One line: a module error's message carries its require stack on the lines after.
    const why = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
    super(`checking ${path} failed inside hvci-build (${why}); please report this with the file`);
    this.name = 'InternalCheckError';
  }
}

/**
 * Checks one image, given as a path or as its bytes, and returns the findings.
 * Never throws for a bad image: an inconsistent file gives one `malformed`
 * finding, an unreadable one an `unreadable` finding. A bug throws InternalCheckError.
 */
export function checkImage(input: string | Uint8Array, options: CheckOptions = {}, displayPath?: string): FileResult {
  const path = displayPath ?? (typeof input === 'string' ? input : '<buffer>');
  try {
    return check(input, options, path);
  } catch (err) {
    throw err instanceof InternalCheckError ? err : new InternalCheckError(path, err);
  }
}

function check(input: string | Uint8Array, options: CheckOptions, path: string): FileResult {
  const policy: SeverityPolicy = { overrides: options.rules ?? {}, strict: options.strict ?? false };
  const findings: Finding[] = [];
  const emit = (rule: Rule, d: Detection): void => {
    const severity = finalSeverity(policy, rule.meta.id, d.defaultSeverity ?? rule.meta.defaultSeverity);
    if (severity === 'off') return;
    const meta = rule.meta;
    const template = (d.messageId !== undefined ? meta.messages?.[d.messageId] : undefined) ?? meta.message;
    const finding: Finding = { rule: meta.id, severity, message: formatMessage(template, d.args), args: d.args };
    if (d.section !== undefined) finding.section = d.section;
    if (d.rva !== undefined) finding.rva = d.rva;
    if (d.offset !== undefined) finding.offset = d.offset;
    if (d.length !== undefined) finding.length = d.length;
    if (d.source !== undefined) finding.source = d.source;
    findings.push(finding);
  };
  const engineRule = (id: string): Rule => RULES_BY_ID.get(id)!;
  // A rule that is off does no work. Defaults are never 'off' (a rule may lower its own per
  // finding), so only the user's setting turns a rule off.
  const enabled = RULES.filter((r) => r.check && policy.overrides[r.meta.id] !== 'off');

  let src: ByteSource;
  try {
    src = typeof input === 'string' ? fileSource(input) : bufferSource(input);
  } catch (err) {
    if (!isIoError(err)) throw err;
    emit(engineRule('unreadable'), { args: { reason: describeIoError(err) } });
    return { path, findings };
  }
  let image: PeImage;
  let callSites: CallSiteAnalysis | undefined;
  let symbols: ImageSymbols | undefined;
  try {
    const parsed = parseImage(src);
    if (!parsed.ok) {
      emit(engineRule('malformed'), malformedDetection(parsed.error));
      return { path, findings };
    }
    image = parsed.image;
    // The CodeView record is read while the image is open (a few bytes); the PDB or map
    // file only when a finding asks for a name or a source line.
    if (typeof input === 'string') symbols = imageSymbols(input, image.headers, readCodeView(src, image.headers), { pathMap: options.pathMap ?? [] });
    const targets = enabled.filter((r) => r.needs?.includes('callsites')).flatMap((r) => r.targets ?? []);
    if (options.callsites !== false && targets.length > 0) {
      callSites = analyseCallSites(src, image, uniqueTargets(targets), {
        ...(options.decoder ? { decoder: options.decoder } : {}),
      });
    }
  } catch (err) {
    if (!isIoError(err)) throw err;
    emit(engineRule('unreadable'), { args: { reason: describeIoError(err) } });
    return { path, findings };
  } finally {
    src.close();
  }

  const ctx: RuleContext = { minWindowsBuild: options.minWindowsBuild, callSites, symbols };
  for (const rule of enabled) for (const d of rule.check!(image, ctx)) emit(rule, d);
  const skipped = engineRule('skipped-check');
  for (const part of image.skipped) {
    const { reason, ...rest } = part;
    const args: Record<string, ArgValue> = {};
    for (const [k, v] of Object.entries(rest)) args[k] = k === 'rva' || k === 'size' || k === 'code' ? hex(v as number) : v;
    emit(skipped, { messageId: reason, args });
  }
  for (const part of callSites?.skipped ?? []) {
    if (part.reason === 'budget') {
      emit(skipped, { messageId: 'callsite-budget', args: { limit: part.limit.toLocaleString('en-US'), rva: hex(part.rva) } });
    } else if (part.reason === 'machine') {
      emit(skipped, { messageId: 'callsite-machine', args: { machine: part.machine, ddis: part.ddis } });
    } else {
      emit(skipped, { section: part.section, messageId: 'callsite-no-file-data', args: { section: part.section, ddis: part.ddis } });
    }
  }
  const pdb = symbols?.pdbNote();
  if (pdb) emit(skipped, { messageId: `pdb-${pdb.problem}`, args: { pdb: pdb.pdb, detail: pdb.detail } });
  capFindings(findings, (d) => emit(skipped, d), { 'straddling-reloc': image.relocations.straddlingTotal });
  return { path, findings };
}

/** One target per DDI (unknown-pool-type names the others' targets again). */
function uniqueTargets(targets: readonly CallTarget[]): CallTarget[] {
  return [...new Map(targets.map((t) => [t.ddi, t])).values()];
}

function malformedDetection(err: MalformedImageError): Detection {
  return {
    offset: err.offset,
    length: 1,
    args: { problem: err.message, field: err.field, fieldOffset: hex(err.offset) },
  };
}

/** An error of the file system (it has an errno code), not of hvci-build. */
function isIoError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

function describeIoError(err: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    EPERM: 'operation not permitted',
  };
  return reasons[err.code!] ?? `${err.code}${err.message ? `: ${err.message}` : ''}`;
}

/** Fills `{name}` placeholders; lists are joined with commas. */
export function formatMessage(template: string, args: Readonly<Record<string, ArgValue>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = args[name];
    if (v === undefined) return whole;
    return Array.isArray(v) ? v.join(', ') : String(v);
  });
}
