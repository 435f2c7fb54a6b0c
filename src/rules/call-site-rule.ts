/**
 * The shape every call-site rule shares: its targets (the DDIs and the parameter that
 * decides executability) and a judge that says what is wrong with one call, or nothing.
 * The helper does the rest: reading the analysis from the context, the location, the
 * function name, and the arguments every call-site finding has.
 */
import type { CallSite, CallTarget } from '../callsites/types.js';
import type { ArgValue, Severity } from '../findings.js';
import { hex } from '../pe/errors.js';
import type { Detection, Rule, RuleContext, RuleMeta } from './types.js';

/** What a judge returns for a call worth reporting: the message arguments, optionally which message and a lower severity. */
export type Verdict = Record<string, ArgValue> & { messageId?: string; severity?: Severity };

export function callSiteRule(meta: RuleMeta, targets: readonly CallTarget[], judge: (site: CallSite) => Verdict | undefined): Rule {
  const ddis = new Set(targets.map((t) => t.ddi));
  return {
    meta,
    needs: ['callsites'],
    targets,
    check(_image, ctx) {
      const analysis = ctx.callSites;
      if (!analysis) return [];
      const out: Detection[] = [];
      for (const s of analysis.sites) {
        if (!ddis.has(s.ddi)) continue;
        const verdict = judge(s);
        if (!verdict) continue;
        const { messageId, severity, ...args } = verdict;
        const d = siteDetection(ctx, s, args);
        if (typeof messageId === 'string') d.messageId = messageId;
        if (severity !== undefined) d.defaultSeverity = severity;
        out.push(d);
      }
      return out;
    },
  };
}

export function hexValue(v: bigint): string {
  return '0x' + v.toString(16).toUpperCase();
}

/** `RVA 0x100B (alloc_exec+0xB)`, or `RVA 0x100B` without symbols. */
export function placeOf(ctx: RuleContext, rva: number): { site: string; function?: string } {
  const fn = ctx.symbols?.functionAt(rva);
  if (!fn) return { site: `RVA ${hex(rva)}` };
  return { site: `RVA ${hex(rva)} (${fn.name}${fn.offset ? `+${hex(fn.offset)}` : ''})`, function: fn.name };
}

/**
 * Location (section, RVA, file offset and length of the call instruction) and the
 * arguments every call-site finding has: the DDI, where the call is (and the function
 * making it, when a PDB or map file names it), and how the call was made.
 */
export function siteDetection(ctx: RuleContext, s: CallSite, args: Record<string, ArgValue>): Detection {
  const source = ctx.symbols?.sourceAt(s.rva);
  return {
    section: s.section,
    rva: s.rva,
    offset: s.offset,
    length: s.length,
    ...(source ? { source } : {}),
    args: { ddi: s.ddi, rva: hex(s.rva), ...placeOf(ctx, s.rva), call: s.kind, via: s.via, ...args },
  };
}
