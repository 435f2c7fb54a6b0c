/**
 * A PDB reader of our own (MSF 7.00, as lld-link and link.exe write it): the info stream
 * (GUID, age), the DBI stream's modules and section contributions, each module's symbols and
 * C13 line tables (DEBUG_S_LINES with DEBUG_S_FILECHKSMS and /names), and the global symbol
 * records (publics, global data). Any RVA maps to function, file, line (column when present)
 * and object file.
 *
 * Bounded: every read is checked against its stream, the container against the file
 * (./msf.ts). Never throws: a damaged PDB is a result with a problem code.
 */
import { lastAtOrBefore } from '../callsites/last-at-or-before.js';
import { readDbi, type PdbModule } from './dbi.js';
import { PdbDamage, type PdbProblem } from './errors.js';
import { readInfo } from './info.js';
import { readGlobalSymbols, readModuleStream, type SegSymbol } from './module-stream.js';
import type { InlineSite } from './inline-sites.js';
import { readItemNames, type ItemNames } from './item-names.js';
import { Msf } from './msf.js';
import { readStrings } from './strings.js';

export type { PdbProblem } from './errors.js';

/** Where code or data at an RVA came from, as the PDB records it (paths of the build machine). */
export interface PdbLocation {
  file?: string;
  line?: number;
  column?: number;
  function?: string;
  /** Offset of the RVA in that function. */
  functionOffset?: number;
  /** The object file (module) that contributed the bytes. */
  object?: string;
  /** Code of an inlined call: the innermost inlined function and its file and line (file and line above are the caller's). */
  inlined?: { function?: string; file?: string; line: number };
}

export interface PdbSymbols {
  /** Function, file, line and object of the code at `rva`. */
  at(rva: number): PdbLocation;
  /** The data symbol at or before `rva` in its section (a global variable), with its object file. */
  dataAt(rva: number): { name: string; offset: number; object?: string } | undefined;
  /** The object files that contributed to [start, end), in order. */
  contributors(start: number, end: number): string[];
  /** Damage met while reading a module or the global symbols for a lookup (that part was left out). */
  damage(): { problem: Exclude<PdbProblem, 'mismatch'>; detail: string } | undefined;
}

export type PdbResult = { ok: true; pdb: PdbSymbols } | { ok: false; problem: PdbProblem; detail: string };

/** What ties a PDB to an image: the CodeView record's GUID and age. */
export interface PdbIdentity {
  guid: Buffer;
  age: number;
}

/** Section start RVAs, by 1-based section number as in section:offset addresses. */
export type SectionStarts = readonly { virtualAddress: number; size: number }[];

interface Ranged {
  rva: number;
  end: number;
  name: string;
  module?: number;
  inlined?: InlineSite[];
}

export function openPdb(bytes: Buffer, identity: PdbIdentity, sections: SectionStarts): PdbResult {
  try {
    return { ok: true, pdb: readPdb(bytes, identity, sections) };
  } catch (err) {
    if (err instanceof Mismatch) return { ok: false, problem: 'mismatch', detail: err.message };
    const damage = damageOf(err);
    if (damage) return { ok: false, ...damage };
    throw err;
  }
}

/** What a read that ran off its stream or met a damaged structure found; undefined for anything else (a bug). */
function damageOf(err: unknown): { problem: Exclude<PdbProblem, 'mismatch'>; detail: string } | undefined {
  if (err instanceof PdbDamage) return { problem: err.problem, detail: err.detail };
  if (err instanceof RangeError) return { problem: 'stream', detail: err.message };
  return undefined;
}

class Mismatch extends Error {}
const guidText = (g: Buffer): string => g.toString('hex').toUpperCase();

function readPdb(bytes: Buffer, identity: PdbIdentity, sections: SectionStarts): PdbSymbols {
  const msf = new Msf(bytes);
  const info = readInfo(msf);
  if (!info.guid.equals(identity.guid)) throw new Mismatch(`GUID ${guidText(info.guid)}, the image's ${guidText(identity.guid)}`);
  const dbi = readDbi(msf);
  // link.exe bumps the info stream's age on incremental links; the DBI age is the image's.
  if (dbi.age !== identity.age && info.age !== identity.age) throw new Mismatch(`age ${dbi.age}, the image's ${identity.age}`);
  const strings = readStrings(msf, info.named.get('/names'));
  const rvaOf = (segment: number, offset: number): number | undefined => {
    const s = sections[segment - 1];
    return s && offset <= s.size ? s.virtualAddress + offset : undefined;
  };
  const ranged = (list: (SegSymbol & { inlined?: InlineSite[] })[], module: number | undefined, out: Ranged[]): void => {
    for (const s of list) {
      const rva = rvaOf(s.segment, s.offset);
      if (rva === undefined) continue;
      const r: Ranged = { rva, end: s.size !== undefined ? rva + s.size : rva, name: s.name };
      if (module !== undefined) r.module = module;
      if (s.inlined?.length) r.inlined = s.inlined;
      out.push(r);
    }
  };

  const contributions: Ranged[] = [];
  for (const c of dbi.contributions) {
    const rva = rvaOf(c.section, c.offset);
    if (rva !== undefined && c.size > 0) contributions.push({ rva, end: rva + c.size, name: '', module: c.module });
  }
  contributions.sort((a, b) => a.rva - b.rva);
  const objectOf = (module: number | undefined): string | undefined => (module === undefined ? undefined : objectName(dbi.modules[module]));
  const containing = (list: readonly Ranged[], rva: number): Ranged | undefined => {
    const k = lastAtOrBefore(list.length, (i) => list[i]!.rva, rva);
    // Nested or zero-sized neighbours: look back a few for one that covers rva.
    for (let j = k; j >= 0 && j > k - 8; j--) if (rva < list[j]!.end) return list[j];
    return undefined;
  };
  const sectionOf = (rva: number): number => sections.findIndex((s) => rva >= s.virtualAddress && rva < s.virtualAddress + s.size);

  // Module streams are read when a lookup needs them: the module whose contribution holds the
  // address (all of them for a PDB without contributions). Damage found then leaves that
  // module out, and `damage` says so.
  let damage: { problem: Exclude<PdbProblem, 'mismatch'>; detail: string } | undefined;
  const guarded = <T>(read: () => T, empty: T): T => {
    try {
      return read();
    } catch (err) {
      const found = damageOf(err);
      if (!found) throw err;
      damage ??= found;
      return empty;
    }
  };
  // The IPI stream (inlinees' names) is read only when a lookup meets an inlined call.
  let items: ItemNames | undefined;
  const itemName = (id: number): string | undefined => (items ??= guarded(() => readItemNames(msf), () => undefined))(id);
  const EMPTY: Parsed = { procs: [], data: [], lines: [] };
  const byStream = new Map<number, Parsed>();
  const parse = (m: PdbModule | undefined): Parsed => {
    if (m?.stream === undefined) return EMPTY;
    let parsed = byStream.get(m.stream);
    if (!parsed) {
      parsed = guarded(() => parseModule(m), EMPTY);
      byStream.set(m.stream, parsed);
    }
    return parsed;
  };
  const parseModule = (m: PdbModule): Parsed => {
    const syms = readModuleStream(msf, m);
    const out: Parsed = { procs: [], data: [], lines: [] };
    ranged(syms.procs, m.index, out.procs);
    ranged(syms.data, m.index, out.data);
    for (const block of syms.lines) {
      const rva = rvaOf(block.segment, block.start);
      if (rva === undefined) continue;
      const range = { end: rva + block.codeSize, file: block.fileName !== undefined ? strings.at(block.fileName) : undefined, module: m.index };
      // Bytes of the block before its first entry (MASM's alignment before a procedure) are
      // the first entry's line, as LLVM reads them (held to llvm-symbolizer on MSVC's PDBs).
      const first = block.entries[0];
      if (first && first.offset > 0) out.lines.push({ rva, line: first.line, ...(first.column !== undefined ? { column: first.column } : {}), range });
      for (const e of block.entries) out.lines.push({ rva: rva + e.offset, line: e.line, ...(e.column !== undefined ? { column: e.column } : {}), range });
    }
    return sortParsed(out);
  };
  let all: Parsed | undefined;
  const moduleAt = (rva: number): Parsed => {
    const c = containing(contributions, rva);
    if (c) return parse(dbi.modules[c.module!]);
    if (contributions.length > 0) return EMPTY;
    // Each stream once, however many module records name it: the work stays linear in the PDB.
    const streams = [...new Map(dbi.modules.map((m) => [m.stream, m])).values()].map(parse);
    all ??= sortParsed({ procs: streams.flatMap((p) => p.procs), data: streams.flatMap((p) => p.data), lines: streams.flatMap((p) => p.lines) });
    return all;
  };
  // Publics and global data, from the symbol record stream, when a lookup needs them.
  let globals: { publics: Ranged[]; data: Ranged[] } | undefined;
  const globalSymbols = (): { publics: Ranged[]; data: Ranged[] } => {
    globals ??= guarded(
      () => {
        const g = readGlobalSymbols(msf, dbi.symRecordStream);
        const out = { publics: [] as Ranged[], data: [] as Ranged[] };
        ranged(g.functions, undefined, out.publics);
        ranged(g.data, undefined, out.data);
        for (const list of [out.publics, out.data]) list.sort((a, b) => a.rva - b.rva);
        return out;
      },
      { publics: [], data: [] },
    );
    return globals;
  };
  const lastBefore = (list: readonly Ranged[], rva: number): Ranged | undefined => list[lastAtOrBefore(list.length, (i) => list[i]!.rva, rva)];

  return {
    at(rva) {
      const out: PdbLocation = {};
      const mod = moduleAt(rva);
      const proc = containing(mod.procs, rva);
      const pub = proc ? undefined : lastBefore(globalSymbols().publics, rva);
      const fn = proc ?? (pub && sectionOf(pub.rva) === sectionOf(rva) ? pub : undefined);
      if (fn) {
        out.function = fn.name;
        out.functionOffset = rva - fn.rva;
      }
      // Entries at one address (a function's opening line, then its first statement): that
      // address is the first one's, the bytes after it the last one's, as LLVM reads them.
      const lines = mod.lines;
      let k = lastAtOrBefore(lines.length, (i) => lines[i]!.rva, rva);
      while (k > 0 && lines[k]!.rva === rva && lines[k - 1]!.rva === rva) k--;
      const e = lines[k];
      if (e && rva < e.range.end && e.line !== 0) {
        if (e.range.file !== undefined) out.file = e.range.file;
        out.line = e.line;
        if (e.column !== undefined) out.column = e.column;
      }
      const object = objectOf(containing(contributions, rva)?.module ?? proc?.module ?? (e && rva < e.range.end ? e.range.module : undefined));
      if (object !== undefined) out.object = object;
      const inner = proc?.inlined && innermost(proc.inlined, rva - proc.rva);
      if (inner) {
        const file = inner.entry.file !== undefined ? strings.at(inner.entry.file) : undefined;
        const name = itemName(inner.site.inlinee);
        out.inlined = { line: inner.entry.line, ...(file !== undefined ? { file } : {}), ...(name !== undefined ? { function: name } : {}) };
      }
      return out;
    },
    dataAt(rva) {
      // A module's statics and the global records: the nearest symbol at or before rva.
      const local = lastBefore(moduleAt(rva).data, rva);
      const global = lastBefore(globalSymbols().data, rva);
      const d = !local ? global : !global ? local : global.rva > local.rva ? global : local;
      if (!d || sectionOf(d.rva) !== sectionOf(rva)) return undefined;
      // Symbols carry no size: the nearest one before counts only within the same contribution.
      const c = containing(contributions, rva);
      if (c && (d.rva < c.rva || d.rva >= c.end)) return undefined;
      const object = objectOf(d.module ?? containing(contributions, d.rva)?.module);
      return { name: d.name, offset: rva - d.rva, ...(object !== undefined ? { object } : {}) };
    },
    contributors(start, end) {
      const out = new Set<string>();
      let k = Math.max(0, lastAtOrBefore(contributions.length, (i) => contributions[i]!.rva, start));
      for (; k < contributions.length && contributions[k]!.rva < end; k++) {
        const c = contributions[k]!;
        const name = c.end > start ? objectOf(c.module) : undefined;
        if (name !== undefined) out.add(name);
      }
      return [...out];
    },
    damage: () => damage,
  };
}

interface LineEntry {
  rva: number;
  line: number;
  column?: number;
  /** The subsection the entry belongs to: its code ends at `end`. */
  range: { end: number; file: string | undefined; module: number };
}

/** What one module stream (or all of them) gives, sorted by RVA for lookups. */
interface Parsed {
  procs: Ranged[];
  data: Ranged[];
  lines: LineEntry[];
}

function sortParsed(p: Parsed): Parsed {
  p.procs.sort((a, b) => a.rva - b.rva);
  p.data.sort((a, b) => a.rva - b.rva);
  // At one address, entries with a line before the hidden ones (0xFEEFEE).
  p.lines.sort((a, b) => a.rva - b.rva || (b.line !== 0 ? 1 : 0) - (a.line !== 0 ? 1 : 0));
  return p;
}

/** The deepest inlined call whose code holds `offset` (from the procedure's start), with its line entry. */
function innermost(sites: readonly InlineSite[], offset: number): { site: InlineSite; entry: InlineSite['entries'][number] } | undefined {
  let best: { site: InlineSite; entry: InlineSite['entries'][number] } | undefined;
  for (const site of sites) {
    if (best && site.depth <= best.site.depth) continue;
    let entry: InlineSite['entries'][number] | undefined;
    for (const e of site.entries) {
      if (e.offset > offset) break;
      entry = e;
    }
    if (entry && entry.line !== 0) best = { site, entry };
  }
  return best;
}

/** A module's object file: its own path, or `library(member)` for an archive member. */
function objectName(m: PdbModule | undefined): string | undefined {
  if (!m || m.name === '' || m.name === '* Linker *') return undefined;
  if (m.objectFile !== '' && m.objectFile !== m.name && /\.lib$/i.test(m.objectFile)) return `${m.objectFile}(${m.name})`;
  return m.name;
}
