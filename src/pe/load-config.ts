/**
 * The two Control Flow Guard function pointers of the load configuration directory (data
 * directory 10): code compiled with /guard:cf calls through them, so the call-site analysis
 * must know them to see the real target of a guarded call. Read from the image itself, since
 * release drivers carry no symbols. A directory too short or out of the file gives none.
 */
import { locateRva } from './rva.js';
import type { PeHeaders } from './headers.js';
import type { ByteSource } from './source.js';

const DIR_LOAD_CONFIG = 10;

/** Offsets of GuardCFCheckFunctionPointer and GuardCFDispatchFunctionPointer (winnt.h IMAGE_LOAD_CONFIG_DIRECTORY32/64). */
const FIELDS = { 32: { check: 0x48, dispatch: 0x4c }, 64: { check: 0x70, dispatch: 0x78 } } as const;

export interface GuardPointers {
  /** RVA of the pointer to the check function (__guard_check_icall_fptr). */
  check: number | undefined;
  /** RVA of the pointer to the dispatch function (__guard_dispatch_icall_fptr). */
  dispatch: number | undefined;
}

export function guardPointers(src: ByteSource, h: PeHeaders): GuardPointers {
  const none: GuardPointers = { check: undefined, dispatch: undefined };
  const dir = h.dataDirectories[DIR_LOAD_CONFIG];
  if (!dir || dir.rva === 0 || dir.size < 4) return none;
  const span = locateRva(h, dir.rva);
  if (!span || span.available < 4) return none;
  const ptr = h.is64 ? 8 : 4;
  const f = FIELDS[h.is64 ? 64 : 32];
  // The structure's own Size field says which fields exist; the directory size may differ.
  const size = Math.min(src.read(span.offset, 4).readUInt32LE(0), span.available);
  const bytes = src.read(span.offset, Math.min(size, f.dispatch + ptr));
  const read = (at: number): number | undefined => {
    if (at + ptr > bytes.length) return undefined;
    const va = ptr === 8 ? bytes.readBigUInt64LE(at) : BigInt(bytes.readUInt32LE(at));
    const rva = va - h.imageBase;
    return va !== 0n && rva > 0n && rva < BigInt(h.sizeOfImage) ? Number(rva) : undefined;
  };
  return { check: read(f.check), dispatch: read(f.dispatch) };
}
