import type { ParseSkip } from './image.js';
import { DIR_IMPORT } from './constants.js';
import { hex, malformed } from './errors.js';
import type { PeHeaders } from './headers.js';
import { locateRva, requireFileBytes } from './rva.js';
import type { ByteSource } from './source.js';

export interface ImportedFunction {
  /** Undefined for an import by ordinal. */
  name: string | undefined;
  ordinal: number | undefined;
  /** RVA of this function's IAT slot (FirstThunk array entry). */
  slotRva: number;
}

export interface ImportedModule {
  dll: string;
  /** File offset of the 20-byte import descriptor. */
  descriptorOffset: number;
  /** RVA and byte length of the FirstThunk array, terminator included. */
  firstThunkRva: number;
  firstThunkSize: number;
  functions: ImportedFunction[];
}

const DESCRIPTOR_SIZE = 20;
const MAX_NAME = 4096;

/**
 * Parses the import directory (data directory 1). Empty when there is none.
 *
 * Descriptors may share a lookup table and tables may share names, so each
 * table and name is read once, and the thunks of all descriptors together are
 * bounded by what the file can hold when each has its own (file size / thunk
 * size): past that, the remaining descriptors are not read and `skipped` gets a
 * note saying which.
 */
export function parseImports(src: ByteSource, h: PeHeaders, skipped: ParseSkip[] = []): ImportedModule[] {
  const dir = h.dataDirectories[DIR_IMPORT]!;
  if (dir.rva === 0 && dir.size === 0) return [];
  const start = locateRva(h, dir.rva);
  if (!start) {
    malformed(`import directory RVA ${hex(dir.rva)} is not inside any section`, dir.entryOffset, 'ImportDirectory.VirtualAddress');
  }
  // The loader reads descriptors until an empty one, whatever the directory size says.
  const maxDescriptors = Math.floor(start.available / DESCRIPTOR_SIZE);
  const modules: ImportedModule[] = [];
  const thunkSize = h.is64 ? 8 : 4;
  const tables = new Map<number, Thunk[]>();
  const names = new Map<number, string>();
  const name = (rva: number, what: string, fieldOffset: number, field: string): string => {
    let s = names.get(rva);
    if (s === undefined) names.set(rva, (s = readAsciiz(src, h, rva, what, fieldOffset, field)));
    return s;
  };
  const budget = Math.floor(h.fileSize / thunkSize);
  let thunks = 0;
  let over: number | undefined;
  for (let i = 0; ; i++) {
    if (i >= maxDescriptors) {
      malformed(
        `import descriptor table at RVA ${hex(dir.rva)} has no terminating empty descriptor within its section's file data`,
        dir.entryOffset,
        'ImportDirectory.VirtualAddress',
      );
    }
    const descriptorOffset = start.offset + i * DESCRIPTOR_SIZE;
    const d = src.read(descriptorOffset, DESCRIPTOR_SIZE);
    const originalFirstThunk = d.readUInt32LE(0);
    const nameRva = d.readUInt32LE(12);
    const firstThunk = d.readUInt32LE(16);
    if (nameRva === 0 && firstThunk === 0) {
      if (over !== undefined) {
        skipped.push({ reason: 'imports-budget', first: over + 1, last: i, fileSize: h.fileSize, thunks: budget });
      }
      break;
    }
    // Past the budget only the terminator is looked for, so the note can count the rest.
    if (over !== undefined) continue;
    const dll = name(nameRva, 'import DLL name', descriptorOffset + 12, 'Name');
    const lookupRva = originalFirstThunk !== 0 ? originalFirstThunk : firstThunk;
    let entries = tables.get(lookupRva);
    if (!entries) tables.set(lookupRva, (entries = readThunks(src, h, lookupRva, thunkSize, descriptorOffset, budget - thunks + 1)));
    if (thunks + entries.length > budget) {
      over = i;
      continue;
    }
    thunks += entries.length;
    const functions: ImportedFunction[] = entries.map((entry, k) => {
      const slotRva = firstThunk + k * thunkSize;
      if (entry.byOrdinal) return { name: undefined, ordinal: entry.value & 0xffff, slotRva };
      return { name: name(entry.value + 2, `name of import ${k} from ${dll}`, descriptorOffset, 'OriginalFirstThunk'), ordinal: undefined, slotRva };
    });
    modules.push({
      dll,
      descriptorOffset,
      firstThunkRva: firstThunk,
      firstThunkSize: (entries.length + 1) * thunkSize,
      functions,
    });
  }
  return modules;
}

interface Thunk {
  byOrdinal: boolean;
  value: number;
}

/** The entries of one lookup table, at most `limit` (a longer table is cut there: the caller is over budget). */
function readThunks(src: ByteSource, h: PeHeaders, rva: number, size: number, descriptorOffset: number, limit: number): Thunk[] {
  const span = locateRva(h, rva);
  if (!span) {
    malformed(`import lookup table at RVA ${hex(rva)} is not inside any section`, descriptorOffset, 'OriginalFirstThunk');
  }
  const count = Math.floor(span.available / size);
  const out: Thunk[] = [];
  for (let k = 0; k < count; k++) {
    if (out.length >= limit) return out;
    const bytes = src.read(span.offset + k * size, size);
    if (size === 8) {
      const lo = bytes.readUInt32LE(0);
      const hi = bytes.readUInt32LE(4);
      if (lo === 0 && hi === 0) return out;
      out.push({ byOrdinal: (hi & 0x80000000) !== 0, value: lo });
    } else {
      const v = bytes.readUInt32LE(0);
      if (v === 0) return out;
      out.push({ byOrdinal: (v & 0x80000000) !== 0, value: v & 0x7fffffff });
    }
  }
  // Past the file data the loader sees zeros, which end the table.
  if (span.mapped > span.available) return out;
  malformed(
    `import lookup table at RVA ${hex(rva)} has no terminating null entry within its section`,
    descriptorOffset,
    'OriginalFirstThunk',
  );
}

function readAsciiz(src: ByteSource, h: PeHeaders, rva: number, what: string, fieldOffset: number, field: string): string {
  const span = requireFileBytes(h, rva, 1, what, fieldOffset, field);
  const offset = span.offset;
  const limit = Math.min(span.available, MAX_NAME);
  // Names are short: read a little first, the rest only when needed.
  for (let length = Math.min(limit, 64); ; length = Math.min(limit, length * 4)) {
    const bytes = src.read(offset, length);
    const end = bytes.indexOf(0);
    if (end >= 0) return bytes.toString('latin1', 0, end);
    if (length === limit) break;
  }
  malformed(`${what} at RVA ${hex(rva)} is not NUL-terminated`, fieldOffset, field);
}
