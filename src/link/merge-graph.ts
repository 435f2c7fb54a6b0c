/**
 * lld-link's /MERGE rules as it applies them (lld/COFF Writer::mergeSections):
 * one rule per source name, the first given wins (later ones only warn), the
 * command line's before lld-link's defaults and the defaults before the
 * objects' .drectve rules; a rule's destination is followed through further
 * rules to the end, and a cycle is a fatal error.
 */

/** lld-link 19's own rules, added after the command line's. */
export const DEFAULT_MERGES: readonly (readonly [string, string])[] = [
  ['.idata', '.rdata'],
  ['.didat', '.rdata'],
  ['.edata', '.rdata'],
  ['.xdata', '.rdata'],
  ['.00cfg', '.rdata'],
  ['.bss', '.data'],
];

/** "from=to" split as lld-link splits it, at the first '='; undefined when a side is empty. */
export function splitMerge(pair: string): { from: string; to: string } | undefined {
  const eq = pair.indexOf('=');
  return eq > 0 && eq < pair.length - 1 ? { from: pair.slice(0, eq), to: pair.slice(eq + 1) } : undefined;
}

/** Where a section's contents end up: `dest`, reached through `via`; or the cycle lld-link rejects. */
export type MergeTarget = { dest: string; via: string[] } | { cycle: string[] };

export class MergeGraph {
  private readonly rules = new Map<string, string>();

  /** Adds a rule unless the source name already has one (lld-link keeps the first). */
  add(from: string, to: string): void {
    if (!this.rules.has(from)) this.rules.set(from, to);
  }

  /** Where the rule from=to sends `from`'s contents, followed to the end as lld-link does. */
  follow(from: string, to: string): MergeTarget {
    // lld-link skips a rule that merges a section into itself.
    if (from === to) return { dest: from, via: [] };
    const seen: string[] = [];
    let name = to;
    for (;;) {
      if (seen.includes(name)) return { cycle: [...seen.slice(seen.indexOf(name)), name] };
      seen.push(name);
      const next = this.rules.get(name);
      if (next === undefined) return { dest: name, via: seen.slice(0, -1) };
      name = next;
    }
  }

  /** The output section that holds `name`'s contents (`name` itself when no rule moves it). */
  resolve(name: string): MergeTarget {
    const to = this.rules.get(name);
    return to === undefined ? { dest: name, via: [] } : this.follow(name, to);
  }

  /** The names whose contents end up in `dest` (by the rules in force), `dest` excluded. */
  sourcesOf(dest: string): string[] {
    return [...this.rules.keys()].filter((n) => {
      const t = this.resolve(n);
      return n !== dest && 'dest' in t && t.dest === dest;
    });
  }
}
