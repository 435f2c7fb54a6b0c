import type { Msf } from './msf.js';
import { forEachRecord, recordString } from './reader.js';

/** Names of the IPI stream's function ids (LF_FUNC_ID, LF_MFUNC_ID): what inline sites call. */
export type ItemNames = (id: number) => string | undefined;

const IPI_STREAM = 4;
const LF_FUNC_ID = 0x1601;
const LF_MFUNC_ID = 0x1602;

export function readItemNames(msf: Msf): ItemNames {
  if (msf.streamCount <= IPI_STREAM) return () => undefined;
  const b = msf.stream(IPI_STREAM, 'IPI');
  if (b.length < 20) return () => undefined;
  const headerSize = b.readUInt32LE(4);
  const first = b.readUInt32LE(8);
  const end = Math.min(b.length, headerSize + b.readUInt32LE(16));
  // Record offsets by index, so a lookup is one step; at most one per 4 bytes of the stream.
  const offsets: number[] = [];
  forEachRecord(b.subarray(0, end), headerSize, (_kind, _rec, at) => offsets.push(at));
  return (id) => {
    const p = offsets[id - first];
    if (p === undefined) return undefined;
    const kind = b.readUInt16LE(p + 2);
    if (kind !== LF_FUNC_ID && kind !== LF_MFUNC_ID) return undefined;
    return recordString(b.subarray(p + 4, p + 2 + b.readUInt16LE(p)), 8);
  };
}
