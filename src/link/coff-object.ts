import { closeSync, openSync, readSync } from 'node:fs';

/** Characteristics of a section as an object file declares it. */
export interface ObjectSection {
  name: string;
  characteristics: number;
}

/**
 * The section table of a COFF object (.obj), regular or /bigobj. Returns []
 * for anything else (an archive, LLVM bitcode, a missing file): the policy
 * then falls back to the known section names.
 */
export function readObjectSections(path: string): ObjectSection[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(56);
    const n = readSync(fd, head, 0, 56, 0);
    if (n < 20) return [];
    let count: number;
    let tableOffset: number;
    let stringTable: number;
    if (head.readUInt16LE(0) === 0 && head.readUInt16LE(2) === 0xffff) {
      if (n < 56) return [];
      count = head.readUInt32LE(44);
      tableOffset = 56;
      stringTable = head.readUInt32LE(48) + head.readUInt32LE(52) * 20;
    } else {
      const machine = head.readUInt16LE(0);
      if (![0x8664, 0x14c, 0xaa64, 0x1c4, 0xa641].includes(machine)) return [];
      count = head.readUInt16LE(2);
      tableOffset = 20 + head.readUInt16LE(16);
      stringTable = head.readUInt32LE(8) + head.readUInt32LE(12) * 18;
    }
    if (count > 100000) return [];
    const table = Buffer.alloc(count * 40);
    if (readSync(fd, table, 0, table.length, tableOffset) < table.length) return [];
    const out: ObjectSection[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * 40;
      let name = table.toString('latin1', at, at + 8).replace(/\0.*$/s, '');
      if (name.startsWith('/')) name = longName(fd, stringTable, Number(name.slice(1))) ?? name;
      out.push({ name, characteristics: table.readUInt32LE(at + 36) });
    }
    return out;
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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
