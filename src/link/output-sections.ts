import { IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_DISCARDABLE, IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ, IMAGE_SCN_MEM_WRITE } from '../pe/constants.js';
import { outputSectionName, type CoffObject } from './coff-object.js';
import type { MergeGraph } from './merge-graph.js';
import { isExec } from './section-attrs.js';

const R = IMAGE_SCN_MEM_READ;
const W = IMAGE_SCN_MEM_WRITE;
const X = IMAGE_SCN_MEM_EXECUTE;
const CODE = R | X | IMAGE_SCN_CNT_CODE;

const DATA_SECTIONS = new Set(['.rdata', '.data', '.bss', '.idata', '.edata', '.pdata', '.xdata', '.00cfg', '.tls', '.reloc', '.rsrc']);
// WDK names: INIT, PAGE, PAGELK, PAGESRP0... hold code; PAGEDATA and PAGECONST hold data.
const CODE_SECTIONS = /^(\.text|INIT|_TEXT|_PAGE|PAGE(?!DATA|CONST))/;

/** What the linker gives sections it makes itself when no object names them. */
const KNOWN_BITS: Readonly<Record<string, number>> = {
  '.text': CODE,
  '.rdata': R,
  '.data': R | W,
  '.bss': R | W,
  '.idata': R,
  '.edata': R,
  '.pdata': R,
  '.xdata': R,
  '.00cfg': R,
  '.reloc': R | IMAGE_SCN_MEM_DISCARDABLE,
};

/** lld-link makes the import tables in .idata, which its default /merge:.idata=.rdata moves on. */
export const IAT_SECTION = '.idata';

/**
 * What the policy knows of the image's output sections before the link: the
 * characteristics the objects declare (union per output name), the ones the
 * linker gives its own sections, and where the /MERGE rules move them.
 */
export class OutputSections {
  private readonly declared = new Map<string, number>();

  constructor(objects: readonly CoffObject[], readonly merges: MergeGraph) {
    for (const o of objects) {
      for (const s of o.sections) {
        // Skip the compiler's metadata sections (.drectve, .debug$S, .llvm_addrsig: LNK_INFO/REMOVE).
        if ((s.characteristics & 0x00000a00) !== 0) continue;
        const name = outputSectionName(s.name);
        this.declared.set(name, (this.declared.get(name) ?? 0) | s.characteristics);
      }
    }
  }

  /** Characteristics of a section as named by objects or the linker; undefined when nothing is known. */
  private ownBits(name: string): number | undefined {
    return this.declared.get(name) ?? KNOWN_BITS[name] ?? (CODE_SECTIONS.test(name) ? CODE : undefined);
  }

  private ownKind(name: string): boolean | undefined {
    const bits = this.ownBits(name);
    if (bits !== undefined) return isExec(bits);
    return DATA_SECTIONS.has(name) ? false : undefined;
  }

  /**
   * Characteristics of the output section `name`. One no object or linker
   * makes is the section merged or renamed into it (lld-link renames the first
   * source when the destination does not exist): the union of its sources.
   */
  bits(name: string): number | undefined {
    const own = this.ownBits(name);
    if (own !== undefined) return own;
    const from = this.merges.sourcesOf(name).map((n) => this.ownBits(n)).filter((b) => b !== undefined);
    return from.length > 0 ? from.reduce((a, b) => a | b, 0) : undefined;
  }

  /** Whether the output section `name` holds code; undefined when nothing is known of it. */
  isCode(name: string): boolean | undefined {
    const own = this.ownKind(name);
    if (own !== undefined) return own;
    const kinds = this.merges.sourcesOf(name).map((n) => this.ownKind(n));
    if (kinds.includes(true)) return true;
    return kinds.includes(false) ? false : undefined;
  }

  /** The output section that will hold the IAT; undefined when the merge rules loop (lld-link fails). */
  iatSection(): { dest: string; path: string[] } | undefined {
    const t = this.merges.resolve(IAT_SECTION);
    return 'dest' in t ? { dest: t.dest, path: [IAT_SECTION, ...t.via, t.dest] } : undefined;
  }
}
