import { IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ, IMAGE_SCN_MEM_WRITE, PAGE_SIZE } from '../pe/constants.js';
import { lastOption, parseLinkNumber, readLinkArgs, type LinkArgs } from './args.js';
import { outputSectionName, readObjectSections } from './coff-object.js';
import { isExec, isWX, lettersFor, linkExeResult, parseSectionSpec } from './section-attrs.js';

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
  /** Refusals: each names the flag and the rule it would break. */
  errors: string[];
  /** What was injected, translated or allowed by config, for the build log. */
  notices: string[];
}

const DATA_SECTIONS = new Set(['.rdata', '.data', '.bss', '.idata', '.edata', '.pdata', '.xdata', '.00cfg', '.tls', '.reloc', '.rsrc']);
// WDK names: INIT, PAGE, PAGELK, PAGESRP0... hold code; PAGEDATA and PAGECONST hold data.
const CODE_SECTIONS = /^(\.text|INIT|_TEXT|_PAGE|PAGE(?!DATA|CONST))/;

const R = IMAGE_SCN_MEM_READ;
const W = IMAGE_SCN_MEM_WRITE;
const X = IMAGE_SCN_MEM_EXECUTE;
/** What the linker gives sections it makes itself when no object names them. */
const KNOWN_BITS: Readonly<Record<string, number>> = {
  '.text': R | X | 0x20,
  '.rdata': R,
  '.data': R | W,
  '.bss': R | W,
  '.idata': R,
  '.edata': R,
  '.pdata': R,
  '.xdata': R,
  '.00cfg': R,
  '.reloc': R | 0x02000000,
};

/**
 * Applies the HVCI link policy to an expanded lld-link command line: injects
 * /NXCOMPAT and /ALIGN:0x1000, refuses what would break memory integrity,
 * splits WDK's multi-pair /MERGE, and rewrites /SECTION so lld-link does what
 * link.exe would.
 */
export function applyLinkPolicy(input: readonly string[], cwd: string, config: LinkPolicyConfig): PolicyResult {
  const parsed = readLinkArgs(input);
  const errors: string[] = [];
  const notices: string[] = [];
  const sections = sectionBitsFromObjects(parsed, cwd);
  const out: string[] = [];
  const replaced = new Map<number, string[]>();

  // NX_COMPAT: refuse an explicit opt-out, inject otherwise.
  const nx = lastOption(parsed, 'nxcompat');
  if (nx?.value !== undefined && nx.value.toLowerCase() === 'no') {
    errors.push(`${nx.raw} turns off NX_COMPAT; memory integrity needs it (rule nx-compat)`);
  }
  // Section alignment.
  const align = lastOption(parsed, 'align');
  if (align) {
    const n = align.value !== undefined ? parseLinkNumber(align.value) : undefined;
    if (n === undefined || n % PAGE_SIZE !== 0) {
      errors.push(`${align.raw}: section alignment must be a multiple of 0x1000 (rule section-alignment)`);
    }
  }

  for (const opt of parsed.options) {
    if (opt.name === 'merge' && opt.value !== undefined) {
      const pairs = opt.value.split(';').filter((p) => p !== '');
      const rewritten: string[] = [];
      for (const pair of pairs) {
        const eq = pair.indexOf('=');
        if (eq <= 0 || eq === pair.length - 1) {
          errors.push(`${opt.raw}: '${pair}' is not from=to`);
          continue;
        }
        const from = pair.slice(0, eq);
        const to = pair.slice(eq + 1);
        const problem = mergeProblem(from, to, sections);
        if (problem && config.allowMerges.some((a) => a.toLowerCase() === `${from}=${to}`.toLowerCase())) {
          notices.push(`allowed by config: /MERGE:${from}=${to} (${problem})`);
        } else if (problem) {
          errors.push(`${opt.raw}: merging ${from} into ${to} ${problem}`);
        }
        rewritten.push(`/merge:${from}=${to}`);
      }
      if (pairs.length > 1) {
        notices.push(`split ${opt.raw} into ${rewritten.join(' ')} (lld-link splits only at the first '=')`);
      }
      replaced.set(opt.index, rewritten);
    } else if (opt.name === 'section' && opt.value !== undefined) {
      const spec = parseSectionSpec(opt.value);
      if (typeof spec === 'string') {
        errors.push(`${opt.raw}: ${spec}`);
        continue;
      }
      // A section only a static library contributes (KMDF's INIT) is not in the objects read.
      const base = sections.get(spec.name) ?? KNOWN_BITS[spec.name] ?? (CODE_SECTIONS.test(spec.name) ? R | X | 0x20 : 0);
      const result = linkExeResult(base, spec);
      const letters = lettersFor(result);
      if (letters === '') {
        errors.push(`${opt.raw} leaves section ${spec.name} with no attributes, which lld-link rejects (rule no-permissions)`);
        continue;
      }
      const rewritten = `/section:${spec.name},${letters}`;
      if (isWX(result)) {
        if (config.allowSections.some((a) => sameSectionSpec(a, opt.value!))) {
          notices.push(`allowed by config: ${opt.raw} (makes ${spec.name} writable and executable)`);
        } else {
          errors.push(`${opt.raw} makes section ${spec.name} writable and executable (rule wx-section)`);
        }
      }
      if (rewritten.toLowerCase() !== `/section:${opt.value}`.toLowerCase()) {
        notices.push(`translated ${opt.raw} to ${rewritten} (lld-link replaces the R/W/E bits; link.exe keeps those not named)`);
      }
      replaced.set(opt.index, [rewritten]);
    }
  }

  parsed.args.forEach((arg, i) => out.push(...(replaced.get(i) ?? [arg])));
  if (!nx) {
    out.push('/nxcompat');
    notices.push('injected /nxcompat');
  }
  if (!align) {
    out.push('/align:0x1000');
    notices.push('injected /align:0x1000');
  }
  return { args: out, errors, notices };
}

/** Why merging `from` into `to` breaks memory integrity, or undefined when it does not. */
function mergeProblem(from: string, to: string, sections: ReadonlyMap<string, number>): string | undefined {
  const fromExec = execKind(from, sections);
  const toExec = execKind(to, sections);
  // A section no object contributes and the linker does not make merges nothing.
  if (fromExec === undefined || toExec === undefined || fromExec === toExec) return undefined;
  const data = fromExec ? to : from;
  const dataBits = sections.get(data) ?? KNOWN_BITS[data] ?? R;
  if (dataBits & W) return `makes a writable and executable section (rule wx-section)`;
  const iat = data === '.rdata' || data === '.idata' ? ' and puts the IAT in executable memory (rule iat-in-exec)' : '';
  return `mixes data and code: ${data} becomes executable${iat}`;
}

/** Whether a section holds code; undefined when nothing is known of it. */
function execKind(name: string, sections: ReadonlyMap<string, number>): boolean | undefined {
  const bits = sections.get(name);
  if (bits !== undefined) return isExec(bits);
  if (DATA_SECTIONS.has(name)) return false;
  return CODE_SECTIONS.test(name) ? true : undefined;
}

/** Output-section characteristics as the input objects declare them (union per output name). */
function sectionBitsFromObjects(parsed: LinkArgs, cwd: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const input of parsed.inputs) {
    if (!/\.(obj|o)$/i.test(input)) continue;
    const path = input.startsWith('/') ? input : `${cwd}/${input}`;
    for (const s of readObjectSections(path)) {
      // Skip the compiler's metadata sections (.drectve, .debug$S, .llvm_addrsig: LNK_INFO/REMOVE).
      if ((s.characteristics & 0x00000a00) !== 0) continue;
      const name = outputSectionName(s.name);
      map.set(name, (map.get(name) ?? 0) | s.characteristics);
    }
  }
  return map;
}

/** "name,attrs" equal up to case and letter order. */
function sameSectionSpec(a: string, b: string): boolean {
  const norm = (x: string): string => {
    const [name = '', attrs = ''] = x.split(',');
    return `${name},${[...attrs.toLowerCase()].sort().join('')}`;
  };
  return norm(a) === norm(b);
}
