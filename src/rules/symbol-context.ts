/**
 * What a PDB adds to findings about data and sections: the global variable at an address,
 * and the object files that contributed to a section. Read only when such a finding exists.
 */
import { basename } from 'node:path';
import type { SectionHeader } from '../pe/headers.js';
import { sectionSpan } from '../pe/headers.js';
import { hex } from '../pe/errors.js';
import type { Detection, RuleContext } from './types.js';

/** Message suffix for a section finding that names its contributing objects. */
export const CONTRIBUTED = '; its contents come from {objects}';

/** `lib(member)` and object paths, shortened to file names for the message. */
const shortName = (p: string): string => basename(p.replace(/\(([^()]*)\)$/, '')) + (/\(([^()]*)\)$/.exec(p)?.[0] ?? '');

/** Adds the objects that contributed to section `s` (args.objects, args.objectFiles) and the message that names them. */
export function withContributors<D extends Detection>(d: D, s: SectionHeader, ctx: RuleContext): D {
  const objects = ctx.symbols?.contributors(s.virtualAddress, s.virtualAddress + sectionSpan(s)) ?? [];
  if (objects.length === 0) return d;
  return { ...d, messageId: 'contributed', args: { ...d.args, objects: objects.map(shortName), objectFiles: objects } };
}

/** The global variable holding `rva`, as `name+0xOFF` and its object, when the PDB has it. */
export function globalAt(rva: number, ctx: RuleContext): { global: string; object?: string } | undefined {
  const d = ctx.symbols?.dataAt(rva);
  if (!d) return undefined;
  return { global: d.offset ? `${d.name}+${hex(d.offset)}` : d.name, ...(d.object !== undefined ? { object: shortName(d.object) } : {}) };
}
