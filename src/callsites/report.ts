/** Turns a call site into the location and common arguments of a finding. */
import type { ArgValue } from '../findings.js';
import { hex } from '../pe/errors.js';
import type { PeImage } from '../pe/image.js';
import type { Detection } from '../rules/types.js';
import type { CallSite } from './types.js';

/** The sites of the given DDIs, in RVA order; none when call-site analysis did not run. */
export function sitesOf(image: PeImage, ddis: ReadonlySet<string>): CallSite[] {
  return (image.callSites?.sites ?? []).filter((s) => ddis.has(s.ddi));
}

export function hexValue(v: bigint): string {
  return '0x' + v.toString(16).toUpperCase();
}

/**
 * Location (section, RVA, file offset and length of the call instruction) and the
 * arguments every call-site finding has: the DDI, where the call is (and the function
 * making it, when a PDB or map file names it), and how the call was made.
 */
export function siteDetection(image: PeImage, s: CallSite, args: Record<string, ArgValue>): Detection {
  const fn = image.callSites?.functionAt(s.rva);
  const where = fn ? `${fn.name}${fn.offset ? `+${hex(fn.offset)}` : ''}` : undefined;
  return {
    section: s.section,
    rva: s.rva,
    offset: s.offset,
    length: s.length,
    args: {
      ddi: s.ddi,
      rva: hex(s.rva),
      site: where ? `RVA ${hex(s.rva)} (${where})` : `RVA ${hex(s.rva)}`,
      ...(fn ? { function: fn.name } : {}),
      call: s.kind,
      via: s.via,
      ...args,
    },
  };
}
