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

interface LineRange {
  rva: number;
  end: number;
  file: string | undefined;
  module: number;
  entries: { rva: number; line: number; column?: number }[];
}

export function openPdb(bytes: Buffer, identity: PdbIdentity, sections: SectionStarts): PdbResult {
  try {
    return { ok: true, pdb: readPdb(bytes, identity, sections) };
  } catch (err) {
    if (err instanceof PdbDamage) return { ok: false, problem: err.problem, detail: err.detail };
    if (err instanceof Mismatch) return { ok: false, problem: 'mismatch', detail: err.message };
    if (err instanceof RangeError) return { ok: false, problem: 'stream', detail: err.message };
    throw err;
  }
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
  // The IPI stream (inlinees' names) is read only when a lookup meets an inlined call.
  let items: ItemNames | undefined;
  const itemName = (id: number): string | undefined => {
    try {
      items ??= readItemNames(msf);
    } catch {
      items = () => undefined;
    }
    return items(id);
  };

  const procs: Ranged[] = [];
  const data: Ranged[] = [];
  const lines: LineRange[] = [];
  // Each stream once, however many module records name it: the work stays linear in the PDB.
  const walked = new Set<number>();
  for (const m of dbi.modules) {
    if (m.stream === undefined || walked.has(m.stream)) continue;
    walked.add(m.stream);
    const syms = readModuleStream(msf, m);
    ranged(syms.procs, m.index, procs);
    ranged(syms.data, m.index, data);
    for (const block of syms.lines) {
      const rva = rvaOf(block.segment, block.start);
      if (rva === undefined) continue;
      const file = block.fileName !== undefined ? strings.at(block.fileName) : undefined;
      const entries = block.entries.map((e) => ({ ...e, rva: rva + e.offset }));
      lines.push({ rva, end: rva + block.codeSize, file, module: m.index, entries });
    }
  }
  const globals = readGlobalSymbols(msf, dbi.symRecordStream);
  const publics: Ranged[] = [];
  ranged(globals.functions, undefined, publics);
  ranged(globals.data, undefined, data);
  const contributions: Ranged[] = [];
  for (const c of dbi.contributions) {
    const rva = rvaOf(c.section, c.offset);
    if (rva !== undefined && c.size > 0) contributions.push({ rva, end: rva + c.size, name: '', module: c.module });
  }
  for (const list of [procs, publics, data, contributions]) list.sort((a, b) => a.rva - b.rva);
  // Line blocks of one subsection share its range; the file blocks split it by their entries.
  const lineEntries = lines
    .flatMap((l) => l.entries.map((e) => ({ ...e, range: l })))
    .sort((a, b) => a.rva - b.rva || (b.line !== 0 ? 1 : 0) - (a.line !== 0 ? 1 : 0));
  const objectOf = (module: number | undefined): string | undefined => (module === undefined ? undefined : objectName(dbi.modules[module]));
  const containing = (list: readonly Ranged[], rva: number): Ranged | undefined => {
    const k = lastAtOrBefore(list.length, (i) => list[i]!.rva, rva);
    // Nested or zero-sized neighbours: look back a few for one that covers rva.
    for (let j = k; j >= 0 && j > k - 8; j--) if (rva < list[j]!.end) return list[j];
    return undefined;
  };
  const sectionOf = (rva: number): number => sections.findIndex((s) => rva >= s.virtualAddress && rva < s.virtualAddress + s.size);

  return {
    at(rva) {
      const out: PdbLocation = {};
      const proc = containing(procs, rva);
      const pub = proc ? undefined : publics[lastAtOrBefore(publics.length, (i) => publics[i]!.rva, rva)];
      const fn = proc ?? (pub && sectionOf(pub.rva) === sectionOf(rva) ? pub : undefined);
      if (fn) {
        out.function = fn.name;
        out.functionOffset = rva - fn.rva;
      }
      // Entries at one address (a function's opening line, then its first statement): that
      // address is the first one's, the bytes after it the last one's, as LLVM reads them.
      let k = lastAtOrBefore(lineEntries.length, (i) => lineEntries[i]!.rva, rva);
      while (k > 0 && lineEntries[k]!.rva === rva && lineEntries[k - 1]!.rva === rva) k--;
      const e = lineEntries[k];
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
      const d = data[lastAtOrBefore(data.length, (i) => data[i]!.rva, rva)];
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
  };
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
