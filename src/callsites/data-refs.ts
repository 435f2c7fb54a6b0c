/**
 * Pointers in data to a checked DDI's IAT slot or import thunk: `OPS g_ops = {
 * ExAllocatePoolWithTag }` puts the thunk's address (or, through dllimport, the slot's) in
 * .data, and code elsewhere calls through the table. Such calls cannot be followed, so each
 * pointer is reported. Pointers in an image are found through its base relocations (every
 * absolute address has one), in sections that are not code: references from code are the
 * byte scan's.
 */
import { DIR_BASERELOC, IMAGE_SCN_CNT_CODE, IMAGE_SCN_MEM_EXECUTE, REL_DIR64, REL_HIGHLOW } from '../pe/constants.js';
import { sectionForRva, sectionSpan, type PeHeaders, type SectionHeader } from '../pe/headers.js';
import { locateRva } from '../pe/rva.js';
import type { ByteSource } from '../pe/source.js';

export interface DataPointer {
  /** Where the pointer is. */
  rva: number;
  offset: number;
  section: string;
  /** The slot it leads to (for a thunk, the slot the thunk jumps through). */
  slot: number;
}

/** The pointers, or 'budget' last when the work budget ran out before the walk ended. */
export function pointersInData(
  src: ByteSource,
  h: PeHeaders,
  slots: ReadonlySet<number>,
  thunks: ReadonlyMap<number, number>,
  budget: { left: number },
): (DataPointer | 'budget')[] {
  const out: (DataPointer | 'budget')[] = [];
  const dir = h.dataDirectories[DIR_BASERELOC];
  if (!dir || dir.rva === 0 || dir.size === 0 || (slots.size === 0 && thunks.size === 0)) return out;
  const span = locateRva(h, dir.rva);
  if (!span || span.available < dir.size) return out;
  const rel = src.read(span.offset, dir.size);
  const ptr = h.is64 ? 8 : 4;
  const type = h.is64 ? REL_DIR64 : REL_HIGHLOW;
  // Targets as VAs split in 32-bit halves: the hot loop compares the low half against the
  // targets' range first, with plain numbers (a BigInt per entry cost 140 ms on 1M entries).
  const targets = new Map<number, number>();
  for (const s of slots) targets.set(s, s);
  for (const [t, s] of thunks) targets.set(t, s);
  const base = h.imageBase;
  const baseLow = Number(base & 0xffffffffn);
  const baseHigh = Number(base >> 32n);
  let lo = Infinity;
  let hi = -Infinity;
  for (const rva of targets.keys()) {
    lo = Math.min(lo, rva);
    hi = Math.max(hi, rva);
  }
  const bytesOf = new Map<SectionHeader, Buffer | undefined>();
  for (let pos = 0; pos + 8 <= rel.length; ) {
    const page = rel.readUInt32LE(pos);
    const size = rel.readUInt32LE(pos + 4);
    if (size < 8 || pos + size > rel.length) break;
    const s = sectionForRva(h.sections, page);
    if (s && (s.characteristics & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE)) === 0) {
      budget.left -= size >>> 1;
      if (budget.left <= 0) {
        out.push('budget');
        return out;
      }
      let bytes = bytesOf.get(s);
      if (!bytesOf.has(s)) {
        const n = Math.min(s.sizeOfRawData, sectionSpan(s));
        bytes = n > 0 && s.pointerToRawData + n <= src.size ? src.read(s.pointerToRawData, n) : undefined;
        bytesOf.set(s, bytes);
      }
      const pageAt = page - s.virtualAddress;
      for (let i = pos + 8; bytes && i + 2 <= pos + size; i += 2) {
        const entry = rel[i]! | (rel[i + 1]! << 8);
        if (entry >>> 12 !== type) continue;
        const at = pageAt + (entry & 0xfff);
        if (at < 0 || at + ptr > bytes.length) continue;
        const low = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
        const rva = (low - baseLow) >>> 0;
        if (rva < lo || rva > hi) continue;
        if (ptr === 8 && ((bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 24)) >>> 0) !== (baseHigh + (low < baseLow ? 1 : 0)) >>> 0) continue;
        const slot = targets.get(rva);
        if (slot !== undefined) out.push({ rva: s.virtualAddress + at, offset: s.pointerToRawData + at, section: s.name, slot });
      }
    }
    pos += size;
  }
  return out;
}
