import { IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ, IMAGE_SCN_MEM_WRITE, PAGE_SIZE } from '../pe/constants.js';
import { lastOption, parseLinkNumber, readLinkArgs, type LinkArgs } from './args.js';
import { readObject, type CoffObject } from './coff-object.js';
import { directiveFlags } from './directives.js';
import { DEFAULT_MERGES, MergeGraph, splitMerge } from './merge-graph.js';
import { OutputSections } from './output-sections.js';
import type { Refusal, RefusalId } from './refusals.js';
import { isWX, lettersFor, linkExeResult, lldResult, parseSectionSpec } from './section-attrs.js';

/** Project settings that relax the policy, each use announced. */
export interface LinkPolicyConfig {
  /** Merges to allow although they mix code and data, as "from=to". */
  allowMerges: readonly string[];
  /** /SECTION values to allow although they make W+X, as "name,attrs". */
  allowSections: readonly string[];
}

export interface PolicyResult {
  /** The command line to give lld-link. */
  args: string[];
  /** Refused flags, as data (refusals.ts words them). */
  refusals: Refusal[];
  /** What was injected, translated or allowed by config, for the build log. */
  notices: string[];
}

/** A /MERGE pair or /SECTION value, from the command line or an object's .drectve. */
interface Request {
  /** The flag as written. */
  flag: string;
  value: string;
  /** Position in the command line; undefined for a .drectve flag (lld-link reads those as they are). */
  index?: number;
  /** The object whose .drectve asks for it. */
  object?: string;
}

interface MergeRequest extends Request {
  from: string;
  to: string;
}

/** A refusal of a request's flag. */
function refuse(req: Request, id: RefusalId, args: Refusal['args'] = {}): Refusal {
  return {
    id,
    flag: req.flag,
    ...(req.index !== undefined ? { index: req.index } : {}),
    ...(req.object !== undefined ? { object: req.object } : {}),
    args,
  };
}

/**
 * Applies the HVCI link policy to an expanded lld-link command line: injects
 * /NXCOMPAT and /ALIGN:0x1000, refuses what would break memory integrity
 * (from the command line or the objects' .drectve sections), splits WDK's
 * multi-pair /MERGE, and rewrites /SECTION so lld-link does what link.exe would.
 */
export function applyLinkPolicy(input: readonly string[], cwd: string, config: LinkPolicyConfig): PolicyResult {
  const parsed = readLinkArgs(input);
  const errors: Refusal[] = [];
  const notices: string[] = [];
  const replaced = new Map<number, string[]>();

  // NX_COMPAT: refuse an explicit opt-out, inject otherwise.
  const nx = lastOption(parsed, 'nxcompat');
  if (nx?.value !== undefined && nx.value.toLowerCase() === 'no') {
    errors.push(refuse({ flag: nx.raw, value: nx.value, index: nx.index }, 'nxcompat-off'));
  }
  // Section alignment.
  const align = lastOption(parsed, 'align');
  if (align) {
    const n = align.value !== undefined ? parseLinkNumber(align.value) : undefined;
    if (n === undefined || n % PAGE_SIZE !== 0) {
      errors.push(refuse({ flag: align.raw, value: align.value ?? '', index: align.index }, 'align-not-page'));
    }
  }

  const merges: MergeRequest[] = [];
  const sectionFlags: Request[] = [];
  for (const opt of parsed.options) {
    if (opt.name === 'merge' && opt.value !== undefined) {
      const pairs = opt.value.split(';').filter((p) => p !== '');
      const rewritten: string[] = [];
      for (const pair of pairs) {
        const split = splitMerge(pair);
        if (!split) {
          errors.push(refuse({ flag: opt.raw, value: pair, index: opt.index }, 'merge-not-pair', { pair }));
          continue;
        }
        merges.push({ flag: opt.raw, value: pair, index: opt.index, ...split });
        rewritten.push(`/merge:${pair}`);
      }
      if (pairs.length > 1) {
        notices.push(`split ${opt.raw} into ${rewritten.join(' ')} (lld-link splits only at the first '=')`);
      }
      replaced.set(opt.index, rewritten);
    } else if (opt.name === 'section' && opt.value !== undefined) {
      sectionFlags.push({ flag: opt.raw, value: opt.value, index: opt.index });
    }
  }

  // lld-link applies the command line's merges, then its own, then the objects'.
  const objects = readInputObjects(parsed, cwd);
  const graph = new MergeGraph();
  for (const m of merges) graph.add(m.from, m.to);
  for (const [from, to] of DEFAULT_MERGES) graph.add(from, to);
  for (const { path, object } of objects) {
    for (const d of directiveFlags(path, object.directives)) {
      // lld-link takes a .drectve /merge whole: split at its first '=', not at ';'.
      const split = d.name === 'merge' ? splitMerge(d.value) : undefined;
      if (d.name === 'section') sectionFlags.push({ flag: d.raw, value: d.value, object: d.file });
      else if (split) {
        merges.push({ flag: d.raw, value: d.value, ...split, object: d.file });
        graph.add(split.from, split.to);
      }
    }
  }
  const out = new OutputSections(objects.map((o) => o.object), graph);

  checkMerges(merges, out, config, errors, notices);
  for (const flag of sectionFlags) {
    const rewritten = checkSection(flag, out, config, errors, notices);
    if (rewritten !== undefined && flag.index !== undefined) replaced.set(flag.index, [rewritten]);
  }

  const args: string[] = [];
  parsed.args.forEach((arg, i) => args.push(...(replaced.get(i) ?? [arg])));
  if (!nx) {
    args.push('/nxcompat');
    notices.push('injected /nxcompat');
  }
  if (!align) {
    args.push('/align:0x1000');
    notices.push('injected /align:0x1000');
  }
  // The same flag given twice is refused once.
  const once = new Map(errors.map((r) => [JSON.stringify([r.id, r.flag, r.object, r.args]), r]));
  return { args, refusals: [...once.values()], notices: [...new Set(notices)] };
}

/** Judges each merge by where lld-link finally puts its source, through chains of merges. */
function checkMerges(merges: readonly MergeRequest[], out: OutputSections, config: LinkPolicyConfig, errors: Refusal[], notices: string[]): void {
  const iatPath = out.iatSection()?.path ?? [];
  const cycles = new Set<string>();
  for (const m of merges) {
    const target = out.merges.follow(m.from, m.to);
    if ('cycle' in target) {
      const key = [...new Set(target.cycle)].sort().join(' ');
      if (!cycles.has(key)) errors.push(refuse(m, 'merge-loop', { cycle: target.cycle.join(' -> ') }));
      cycles.add(key);
      continue;
    }
    const problem = mergeProblem(m.from, target.dest, out, iatPath);
    if (!problem) continue;
    const through = target.via.length > 0 ? ` (through ${target.via.join(', ')})` : '';
    if (config.allowMerges.some((a) => a.toLowerCase() === m.value.toLowerCase())) {
      const origin = m.object !== undefined ? ` (.drectve of ${m.object})` : '';
      notices.push(`allowed by config: /MERGE:${m.value}${origin} (${problem.text})`);
    } else {
      errors.push(refuse(m, problem.id, { from: m.from, dest: target.dest, through, ...(problem.data ? { data: problem.data } : {}) }));
    }
  }
}

/** Why merging `from` into `dest` breaks memory integrity, or undefined when it does not. */
function mergeProblem(from: string, dest: string, out: OutputSections, iatPath: readonly string[]): { id: RefusalId; text: string; data?: string } | undefined {
  const fromCode = out.isCode(from);
  const destCode = out.isCode(dest);
  // A section no object contributes and the linker does not make merges nothing.
  if (fromCode === undefined || destCode === undefined || fromCode === destCode) return undefined;
  const data = fromCode ? dest : from;
  const dataBits = out.bits(data) ?? IMAGE_SCN_MEM_READ;
  if (dataBits & IMAGE_SCN_MEM_WRITE) return { id: 'merge-wx', text: 'makes a writable and executable section (rule wx-section)' };
  if (iatPath.includes(data)) {
    return { id: 'merge-exec-iat', data, text: `mixes data and code: ${data} becomes executable and puts the IAT in executable memory (rule iat-in-exec)` };
  }
  return { id: 'merge-exec-data', data, text: `mixes data and code: ${data} becomes executable` };
}

/**
 * Judges one /SECTION: a command-line one with link.exe's meaning (returns
 * its lld-link translation), a .drectve one with lld-link's (bits replaced).
 */
function checkSection(flag: Request, out: OutputSections, config: LinkPolicyConfig, errors: Refusal[], notices: string[]): string | undefined {
  const where = flag.object !== undefined ? `${flag.flag} in the .drectve section of ${flag.object}` : flag.flag;
  const spec = parseSectionSpec(flag.value);
  if (typeof spec === 'string') {
    errors.push(refuse(flag, 'section-invalid', { reason: spec }));
    return undefined;
  }
  // A section only a static library contributes (KMDF's INIT) is not in the objects read.
  const base = out.bits(spec.name) ?? 0;
  const fromCommandLine = flag.index !== undefined;
  const result = fromCommandLine ? linkExeResult(base, spec) : lldResult(base, spec);
  const letters = lettersFor(result);
  if (fromCommandLine && letters === '') {
    errors.push(refuse(flag, 'section-no-attrs', { section: spec.name }));
    return undefined;
  }
  const problems: [RefusalId, string][] = [];
  if (isWX(result)) problems.push(['section-wx', `makes section ${spec.name} writable and executable (rule wx-section)`]);
  if ((result & IMAGE_SCN_MEM_EXECUTE) !== 0 && out.iatSection()?.dest === spec.name) {
    problems.push(['section-iat-exec', `makes section ${spec.name}, which holds the IAT, executable (rule iat-in-exec)`]);
  }
  for (const [id, problem] of problems) {
    if (config.allowSections.some((a) => sameSectionSpec(a, flag.value))) {
      notices.push(`allowed by config: ${where} (${problem})`);
    } else {
      errors.push(refuse(flag, id, { section: spec.name }));
    }
  }
  const rewritten = `/section:${spec.name},${letters}`;
  if (fromCommandLine && rewritten.toLowerCase() !== `/section:${flag.value}`.toLowerCase()) {
    notices.push(`translated ${where} to ${rewritten} (lld-link replaces the R/W/E bits; link.exe keeps those not named)`);
  }
  return fromCommandLine ? rewritten : undefined;
}

/** The COFF objects on the command line, read for their sections and .drectve. */
function readInputObjects(parsed: LinkArgs, cwd: string): { path: string; object: CoffObject }[] {
  return parsed.inputs
    .filter((input) => /\.(obj|o)$/i.test(input))
    .map((input) => ({ path: input, object: readObject(input.startsWith('/') ? input : `${cwd}/${input}`) }));
}

/** "name,attrs" equal up to case and letter order. */
function sameSectionSpec(a: string, b: string): boolean {
  const norm = (x: string): string => {
    const [name = '', attrs = ''] = x.split(',');
    return `${name},${[...attrs.toLowerCase()].sort().join('')}`;
  };
  return norm(a) === norm(b);
}
