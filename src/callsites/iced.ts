/**
 * Loads iced-x86 when the byte scan found something to decode, and not before.
 *
 * Through the package's own glue, a cold process pays about 35 ms: reading and compiling
 * 924 KB of JavaScript, instantiating a module with 762 exports, and building the
 * decoder's tables inside wasm on first use. That is more than a whole check of a 25 MB
 * driver. So the first process saves a snapshot (./iced-snapshot.ts) and later ones
 * start from it through a binding of their own (./iced-direct.ts): 5 to 8 ms.
 *
 * The snapshot lives in the cache directory (../cache-files.ts) and holds while the
 * iced-x86 files it was made from keep their sizes (npm gives every installed file the
 * same mtime). A restored instance must decode a test sequence exactly right or it is
 * thrown away and the glue is used; any failure to read or write the file falls back
 * silently to the glue.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachingEnabled, readCache, shortHash, writeCache } from '../cache-files.js';
import { ENUM_MEMBERS, enumsOf, type IcedApi } from './iced-api.js';
import { DIRECT_EXPORTS, DIRECT_VERSIONS, instantiateDirect } from './iced-direct.js';
import { decodeSnapshot, encodeSnapshot, type SnapshotSource } from './iced-snapshot.js';
import { keepExports } from './wasm-exports.js';
import { compileWasm, type WasmMemory } from './wasm-runtime.js';

/** How iced-x86 was loaded: from a snapshot through our binding, or through its glue. */
export type IcedBackend = 'direct' | 'glue';

/**
 * Where the call-site analysis gets its decoder. The library's default reads and writes no
 * file: iced-x86 through its own glue. The CLI passes `snapshotDecoder()`, which starts
 * from the snapshot in the cache directory and writes one after a first analysis: the
 * start-up saving is real (5 to 8 ms against 35), but it is the caller's choice.
 */
export interface DecoderProvider {
  load(): IcedApi;
  /** Called after an analysis that used the decoder (the snapshot provider writes its file then). */
  done(): void;
  /** Which way load() went, once it ran. */
  backend(): IcedBackend | undefined;
  /** Whether it uses the cache directory: workers make their own provider of the same kind. */
  readonly caching: boolean;
}

const glue = (): IcedApi => createRequire(import.meta.url)('iced-x86') as IcedApi;

/** iced-x86 through its glue; Node's module cache keeps the one instance. No file is written. */
export const glueDecoder: DecoderProvider = {
  load: glue,
  done() {},
  backend: () => 'glue',
  caching: false,
};

/** A provider that uses and refreshes the snapshot in the cache directory (HVCI_NO_CODE_CACHE=1: the glue). */
export function snapshotDecoder(): DecoderProvider {
  let loaded: { api: IcedApi; backend: IcedBackend } | undefined;
  /** What the first process leaves for done(): a copy of the glue's warmed memory. */
  let pending: Pending | undefined;
  return {
    caching: true,
    load() {
      if (!loaded) {
        const r = load();
        loaded = r.loaded;
        pending = r.pending;
      }
      return loaded.api;
    },
    done() {
      const p = pending;
      pending = undefined;
      if (p) saveSnapshot(p);
    },
    backend: () => loaded?.backend,
  };
}

interface Pending {
  glue: IcedApi;
  warm: Uint8Array;
  source: SnapshotSource;
}

/** Everything the binding takes from a snapshot: when it changes, older snapshots are not used. */
let binding: string | undefined;
const bindingId = (): string => (binding ??= JSON.stringify([DIRECT_EXPORTS, ENUM_MEMBERS]));

/** Format of the snapshot, in its name and header: a new format never reads an old file. */
const SNAPSHOT_FORMAT = 4;
const MAGIC = 'HVCIICED';
const snapshotName = (): string => `iced-x86-f${SNAPSHOT_FORMAT}-${shortHash(bindingId())}.snapshot`;

/** hvci-build's root: this module is two levels below it (dist/bundle/, dist/callsites/, src/callsites/). */
const packageRoot = (): string => fileURLToPath(new URL('../../', import.meta.url));

/** mov rax, [rip+0x10]; call [rip+0x1000]; vzeroupper (VEX); vmovups zmm0, zmm1 (EVEX). */
const PROBE = Uint8Array.from([0x48, 0x8b, 0x05, 0x10, 0, 0, 0, 0xff, 0x15, 0, 0x10, 0, 0, 0xc5, 0xf8, 0x77, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0xc1]);

function load(): { loaded: { api: IcedApi; backend: IcedBackend }; pending?: Pending } {
  const caching = cachingEnabled();
  const saved = caching ? readCache(snapshotName(), packageRoot(), MAGIC) : undefined;
  if (saved) {
    const api = fromSnapshot(saved, (s) => DIRECT_VERSIONS.includes(s.version) && sizeOf(s.wasmPath) === s.wasmSize && sizeOf(s.gluePath) === s.glueSize);
    if (api) return { loaded: { api, backend: 'direct' } };
  }
  const require = createRequire(import.meta.url);
  const api = glue();
  let pending: Pending | undefined;
  if (caching) {
    try {
      const gluePath = require.resolve('iced-x86');
      const dir = dirname(gluePath);
      const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '';
      const wasmPath = join(dir, 'iced_x86_bg.wasm');
      if (DIRECT_VERSIONS.includes(version) && probe(api, true)) {
        const source = { version, wasmPath, wasmSize: sizeOf(wasmPath), gluePath, glueSize: sizeOf(gluePath) };
        pending = { glue: api, warm: new Uint8Array(glueMemory(api).buffer.slice(0)), source };
      }
    } catch {
      // No snapshot this time; the glue works.
    }
  }
  return { loaded: { api, backend: 'glue' }, ...(pending ? { pending } : {}) };
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
};

/** Writes the snapshot once, after a first analysis (off the path to its result). */
function saveSnapshot(p: Pending): void {
  try {
    const enums = enumsOf(p.glue);
    const wasm = keepExports(readFileSync(p.source.wasmPath), DIRECT_EXPORTS);
    const fresh = instantiateDirect(compileWasm(wasm), enums).memory;
    const data = encodeSnapshot(SNAPSHOT_FORMAT, bindingId(), p.source, wasm, enums, new Uint8Array(fresh.buffer), p.warm);
    if (fromSnapshot(data, () => true, true)) writeCache(snapshotName(), packageRoot(), MAGIC, data);
  } catch {
    // A snapshot is only a saving: the next process uses the glue again.
  }
}

/** A working decoder from the snapshot in `data`, if it is one that `accept`s. */
function fromSnapshot(data: Buffer, accept: (source: SnapshotSource) => boolean, withInfo = false): IcedApi | undefined {
  try {
    const snapshot = decodeSnapshot(data, SNAPSHOT_FORMAT, bindingId());
    if (!snapshot || !accept(snapshot.source)) return undefined;
    const direct = instantiateDirect(compileWasm(snapshot.wasm), snapshot.enums);
    return snapshot.restore(direct.memory) && probe(direct.api, withInfo) ? direct.api : undefined;
  } catch {
    return undefined;
  }
}

function glueMemory(glue: IcedApi): WasmMemory {
  return (glue as unknown as { __wasm: { memory: WasmMemory } }).__wasm.memory;
}


/**
 * Decodes PROBE and checks every instruction. On a fresh instance (`withInfo`) this also
 * builds the decoder's and the instruction-info tables, which the snapshot then holds.
 */
function probe(iced: IcedApi, withInfo: boolean): boolean {
  let decoder: InstanceType<IcedApi['Decoder']> | undefined;
  let ins: InstanceType<IcedApi['Instruction']> | undefined;
  let factory: InstanceType<IcedApi['InstructionInfoFactory']> | undefined;
  try {
    decoder = new iced.Decoder(64, PROBE, iced.DecoderOptions.None);
    decoder.ip = 0n;
    ins = new iced.Instruction();
    const M = iced.Mnemonic;
    const d = decoder;
    const x = ins;
    // A fresh read each time (TypeScript would narrow a property read twice).
    const next = (): { mn: number; len: number; op0: number; flow: number; rip: bigint } => {
      d.decodeOut(x);
      return { mn: x.mnemonic, len: x.length, op0: x.op0Register, flow: x.flowControl, rip: x.isIpRelMemoryOperand ? x.ipRelMemoryAddress : -1n };
    };
    const mov = next();
    if (mov.mn !== M.Mov || mov.len !== 7 || mov.op0 !== iced.Register.RAX || mov.rip !== 0x17n) return false;
    if (withInfo) {
      factory = new iced.InstructionInfoFactory();
      const info = factory.info(x);
      const regs = info.usedRegisters();
      const writesRax = regs.some((u) => u.register === iced.Register.RAX && u.access === iced.OpAccess.Write);
      for (const u of regs) u.free();
      info.free();
      if (!writesRax) return false;
    }
    const call = next();
    if (call.mn !== M.Call || call.flow !== iced.FlowControl.IndirectCall || call.rip !== 0x100dn) return false;
    const vzu = next();
    if (vzu.mn !== M.Vzeroupper || vzu.len !== 3) return false;
    const vmov = next();
    return vmov.mn === M.Vmovups && vmov.len === 6 && vmov.op0 === iced.Register.ZMM0;
  } catch {
    return false;
  } finally {
    factory?.free();
    ins?.free();
    decoder?.free();
  }
}
