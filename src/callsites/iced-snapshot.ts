/**
 * The file that lets a process start iced-x86 in a millisecond or two: the trimmed wasm
 * module, the enum values of the installed glue, and the pages of wasm memory that
 * differ from a fresh instance once the decoder has built its tables (10 to 20 ms of
 * work on first use, every run, otherwise).
 *
 * Copying memory into a fresh instance is sound because wasm execution is deterministic,
 * the tables hold no JavaScript references, and the only mutable global, the stack
 * pointer, is back at its initial value between calls. The loader still decodes a test
 * sequence with every restored instance and throws the file away if it comes out wrong.
 *
 * Layout: u32 LE header length, the header (JSON), the wasm module, then the changed pages
 * in the order the header lists them. The cache file around it carries a CRC-32
 * (../cache-files.ts), which matters: a damaged page can leave the test decode right and
 * the analysis wrong.
 */
import type { IcedEnums } from './iced-api.js';
import type { WasmMemory } from './wasm-runtime.js';

/** Where the header starts, after its length. */
const START = 4;
const PAGE = 4096;
const WASM_PAGE = 65536;

/** The iced-x86 a snapshot was made from: it stays valid while these files do not change. */
export interface SnapshotSource {
  version: string;
  wasmPath: string;
  wasmSize: number;
  gluePath: string;
  glueSize: number;
}

interface Header {
  format: number;
  /** What the binding needs (exports, enum members): a snapshot made for another binding is stale. */
  binding: string;
  source: SnapshotSource;
  wasm: number;
  /** Size of the memory in bytes. */
  memory: number;
  /** Indices of the PAGE-sized pieces that follow. */
  pages: number[];
  enums: IcedEnums;
}

export interface Snapshot {
  source: SnapshotSource;
  wasm: Uint8Array;
  enums: IcedEnums;
  /** Brings a fresh instance's memory to the saved state; false if it cannot. */
  restore(memory: WasmMemory): boolean;
}

export function encodeSnapshot(format: number, binding: string, source: SnapshotSource, wasm: Uint8Array, enums: IcedEnums, fresh: Uint8Array, warm: Uint8Array): Buffer {
  const pages: number[] = [];
  for (let at = 0; at < warm.length; at += PAGE) {
    for (let i = at; i < at + PAGE; i++) {
      if (warm[i] !== (i < fresh.length ? fresh[i] : 0)) {
        pages.push(at / PAGE);
        break;
      }
    }
  }
  const header: Header = { format, binding, source, wasm: wasm.length, memory: warm.length, pages, enums };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(START);
  length.writeUInt32LE(json.length);
  return Buffer.concat([length, json, wasm, ...pages.map((p) => warm.subarray(p * PAGE, (p + 1) * PAGE))]);
}

function readHeader(data: Buffer): { h: Header; jsonEnd: number } | undefined {
  if (data.length < START) return undefined;
  const jsonEnd = START + data.readUInt32LE(0);
  if (jsonEnd > data.length) return undefined;
  try {
    const h = JSON.parse(data.toString('utf8', START, jsonEnd)) as Header;
    return typeof h === 'object' && h !== null && Number.isSafeInteger(h.wasm) && h.wasm >= 0 && jsonEnd + h.wasm <= data.length ? { h, jsonEnd } : undefined;
  } catch {
    return undefined;
  }
}

/** The snapshot in `data` if it is whole, in `format` and made for `binding`. */
export function decodeSnapshot(data: Buffer, format: number, binding: string): Snapshot | undefined {
  const r = readHeader(data);
  if (!r) return undefined;
  const { h, jsonEnd } = r;
  if (h.format !== format || h.binding !== binding || typeof h.source !== 'object' || h.source === null || !Number.isSafeInteger(h.memory) || !Array.isArray(h.pages)) return undefined;
  if (h.memory % WASM_PAGE !== 0 || jsonEnd + h.wasm + h.pages.length * PAGE !== data.length) return undefined;
  let last = -1;
  for (const p of h.pages) {
    if (!Number.isInteger(p) || p <= last || (p + 1) * PAGE > h.memory) return undefined;
    last = p;
  }
  const pagesAt = jsonEnd + h.wasm;
  return {
    source: h.source,
    wasm: data.subarray(jsonEnd, pagesAt),
    enums: h.enums,
    restore(memory) {
      try {
        const have = memory.buffer.byteLength;
        if (have > h.memory) return false;
        if (have < h.memory) memory.grow((h.memory - have) / WASM_PAGE);
        const bytes = new Uint8Array(memory.buffer);
        h.pages.forEach((p, i) => bytes.set(data.subarray(pagesAt + i * PAGE, pagesAt + (i + 1) * PAGE), p * PAGE));
        return true;
      } catch {
        return false;
      }
    },
  };
}
