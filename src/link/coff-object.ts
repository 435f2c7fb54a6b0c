import { closeSync, openSync, readSync } from 'node:fs';

/** Characteristics of a section as an object file declares it. */
export interface ObjectSection {
  name: string;
  characteristics: number;
}

/** What the link policy reads from an object: its sections and its linker directives. */
export interface CoffObject {
  sections: ObjectSection[];
  /** The text of its .drectve section ('' when it has none): `#pragma comment(linker, ...)`. */
  directives: string;
}

const EMPTY: CoffObject = { sections: [], directives: '' };
const MAX_DIRECTIVES = 1 << 20;

/**
 * The section table and .drectve text of a COFF object (.obj), regular or
 * /bigobj. Empty for anything else (an archive, LLVM bitcode, a missing
 * file): the policy then falls back to the known section names.
 */
export function readObject(path: string): CoffObject {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(56);
    const n = readSync(fd, head, 0, 56, 0);
    if (n < 20) return EMPTY;
    let count: number;
    let tableOffset: number;
    let stringTable: number;
    if (head.readUInt16LE(0) === 0 && head.readUInt16LE(2) === 0xffff) {
      if (n < 56) return EMPTY;
      count = head.readUInt32LE(44);
      tableOffset = 56;
      stringTable = head.readUInt32LE(48) + head.readUInt32LE(52) * 20;
    } else {
      const machine = head.readUInt16LE(0);
      if (![0x8664, 0x14c, 0xaa64, 0x1c4, 0xa641].includes(machine)) return EMPTY;
      count = head.readUInt16LE(2);
      tableOffset = 20 + head.readUInt16LE(16);
      stringTable = head.readUInt32LE(8) + head.readUInt32LE(12) * 18;
    }
    if (count > 100000) return EMPTY;
    const table = Buffer.alloc(count * 40);
    if (readSync(fd, table, 0, table.length, tableOffset) < table.length) return EMPTY;
    const sections: ObjectSection[] = [];
    let directives = '';
    for (let i = 0; i < count; i++) {
      const at = i * 40;
      let name = table.toString('latin1', at, at + 8).replace(/\0.*$/s, '');
      if (name.startsWith('/')) name = longName(fd, stringTable, Number(name.slice(1))) ?? name;
      sections.push({ name, characteristics: table.readUInt32LE(at + 36) });
      // lld-link reads the section by name, whatever its flags.
      if (name === '.drectve') directives += readDirectives(fd, table.readUInt32LE(at + 20), table.readUInt32LE(at + 16));
    }
    return { sections, directives };
  } catch {
    return EMPTY;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The section table of a COFF object; [] for anything else. */
export function readObjectSections(path: string): ObjectSection[] {
  return readObject(path).sections;
}

function readDirectives(fd: number, offset: number, size: number): string {
  if (offset === 0 || size === 0) return '';
  const buf = Buffer.alloc(Math.min(size, MAX_DIRECTIVES));
  const n = readSync(fd, buf, 0, buf.length, offset);
  let text = buf.toString('utf8', 0, n);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  return `${text} `;
}

function longName(fd: number, stringTable: number, offset: number): string | undefined {
  if (!Number.isInteger(offset)) return undefined;
  const buf = Buffer.alloc(256);
  const n = readSync(fd, buf, 0, 256, stringTable + offset);
  const end = buf.subarray(0, n).indexOf(0);
  return buf.toString('latin1', 0, end < 0 ? n : end);
}

/** Output section name: lld-link drops what follows '$' (".text$mn" goes into ".text"). */
export function outputSectionName(name: string): string {
  const dollar = name.indexOf('$');
  return dollar < 0 ? name : name.slice(0, dollar);
}
