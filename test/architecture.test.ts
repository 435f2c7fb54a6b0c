/**
 * The shape of the source tree: the data path has no back-edges. Modules are the folders of
 * src/ (and each file at its top level); an import, type-only or not, is an edge. A new
 * cycle between modules fails here, with the imports that make it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const moduleOf = (file: string): string => relative(SRC, file).split('/')[0]!;

/** Module -> module -> one import that makes the edge. */
function moduleGraph(): Map<string, Map<string, string>> {
  const files = new Set(sources(SRC));
  const graph = new Map<string, Map<string, string>>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
      if (!files.has(target)) continue;
      const a = moduleOf(file);
      const b = moduleOf(target);
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Map());
      graph.get(a)!.set(b, `${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  return graph;
}

function reaches(graph: Map<string, Map<string, string>>, from: string, to: string, seen = new Set<string>()): boolean {
  if (from === to) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  for (const next of graph.get(from)?.keys() ?? []) if (reaches(graph, next, to, seen)) return true;
  return false;
}

describe('architecture', () => {
  it('no import cycles between modules of src/', () => {
    const graph = moduleGraph();
    const cycles: string[] = [];
    for (const [a, edges] of graph) for (const [b, why] of edges) if (reaches(graph, b, a)) cycles.push(why);
    expect(cycles).toEqual([]);
    expect(graph.size).toBeGreaterThan(10);
  });

  it('the PE parser imports nothing from the analyses, the rules or the reporters', () => {
    const pe = [...(moduleGraph().get('pe')?.keys() ?? [])];
    expect(pe.filter((m) => ['callsites', 'rules', 'report', 'cli', 'check-image.ts'].includes(m))).toEqual([]);
  });
});
