/**
 * Loads iced-x86 when the byte scan found something to decode, and not before.
 *
 * Through the package's own glue, a cold process pays about 35 ms: reading and compiling
 * 924 KB of JavaScript, instantiating a module with 762 exports, and building the
 * decoder's tables inside wasm on first use. That is more than a whole check of a 25 MB
 * driver. So the first process saves a snapshot (./iced-snapshot.ts) and later ones
 * start from it through a binding of their own (./iced-direct.ts): 5 to 8 ms.
 *
 * The snapshot lives in node_modules/.cache/hvci-build/ (or the temp directory), keyed by
 * iced's version and file sizes; HVCI_CACHE_DIR chooses another directory and
 * HVCI_NO_CODE_CACHE=1 turns it off. It is written to a temporary name and renamed, so a
 * reader never sees half a file; a restored instance must decode a test sequence exactly
 * right or it is thrown away and the glue is used. Any failure to read or write the file
 * falls back silently to the glue.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ENUM_MEMBERS, type IcedApi, type IcedEnums } from './iced-api.js';
import { compileWasm, DIRECT_EXPORTS, DIRECT_VERSIONS, instantiateDirect, type WasmMemory } from './iced-direct.js';
import { decodeSnapshot, encodeSnapshot } from './iced-snapshot.js';
import { keepExports } from './wasm-exports.js';

/** How iced-x86 was loaded: from a snapshot through our binding, or through its glue. */
export type IcedBackend = 'direct' | 'glue';

let loaded: { api: IcedApi; backend: IcedBackend } | undefined;

/** What the first process leaves for saveIcedCache(): a copy of the glue's warmed memory. */
let pending: { glue: IcedApi; warm: Uint8Array; pkg: IcedPackage; files: string[] } | undefined;

/** Format of the snapshot: part of the key, so a new format never reads an old file. */
const FORMAT = 1;

/** mov rax, [rip+0x10]; call [rip+0x1000]; vzeroupper (VEX); vmovups zmm0, zmm1 (EVEX). */
const PROBE = Uint8Array.from([0x48, 0x8b, 0x05, 0x10, 0, 0, 0, 0xff, 0x15, 0, 0x10, 0, 0, 0xc5, 0xf8, 0x77, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0xc1]);

export function loadIced(): IcedApi {
  loaded ??= load();
  return loaded.api;
}

/** Which way loadIced() went, once it ran (for `doctor` and the tests). */
export function icedBackend(): IcedBackend | undefined {
  return loaded?.backend;
}

interface IcedPackage {
  version: string;
  wasmPath: string;
  key: string;
}

function load(): { api: IcedApi; backend: IcedBackend } {
  const require = createRequire(import.meta.url);
  const glue = (): { api: IcedApi; backend: IcedBackend } => ({ api: require('iced-x86') as IcedApi, backend: 'glue' });
  if (process.env.HVCI_NO_CODE_CACHE) return glue();
  let pkg: IcedPackage;
  try {
    const main = require.resolve('iced-x86');
    const dir = dirname(main);
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '';
    if (!DIRECT_VERSIONS.includes(version)) return glue();
    const wasmPath = join(dir, 'iced_x86_bg.wasm');
    pkg = { version, wasmPath, key: `iced-x86-${version}-${statSync(wasmPath).size}-${statSync(main).size}-f${FORMAT}` };
  } catch {
    return glue();
  }
  const files = cacheFiles(`${pkg.key}.snapshot`, dirname(dirname(pkg.wasmPath)));
  const saved = readFirst(files);
  if (saved) {
    const api = fromSnapshot(saved, pkg.key);
    if (api) return { api, backend: 'direct' };
  }
  const g = glue();
  // Builds the decoder's tables in the glue's instance, and keeps a copy of its memory to save.
  try {
    if (probe(g.api, true)) pending = { glue: g.api, warm: new Uint8Array(glueMemory(g.api).buffer.slice(0)), pkg, files };
  } catch {
    // no snapshot this time
  }
  return g;
}

/** Writes the snapshot once, after a first analysis (off the path to its result). */
export function saveIcedCache(): void {
  const p = pending;
  pending = undefined;
  if (!p) return;
  try {
    const enums = Object.fromEntries(
      Object.entries(ENUM_MEMBERS).map(([e, names]) => [e, Object.fromEntries(names.map((n) => [n, (p.glue as unknown as Record<string, Record<string, number>>)[e]![n]]))]),
    ) as unknown as IcedEnums;
    const wasm = keepExports(readFileSync(p.pkg.wasmPath), DIRECT_EXPORTS);
    const fresh = instantiateDirect(compileWasm(wasm), enums).memory;
    const data = encodeSnapshot(p.pkg.key, wasm, enums, new Uint8Array(fresh.buffer), p.warm);
    // Only a snapshot that works is written.
    if (fromSnapshot(data, p.pkg.key, true)) writeFirst(p.files, data);
  } catch {
    // no snapshot this time
  }
}

function fromSnapshot(data: Buffer, key: string, withInfo = false): IcedApi | undefined {
  try {
    const snapshot = decodeSnapshot(data, key);
    if (!snapshot) return undefined;
    const direct = instantiateDirect(compileWasm(snapshot.wasm), snapshot.enums);
    return snapshot.restore(direct.memory) && probe(direct.api, withInfo) ? direct.api : undefined;
  } catch {
    return undefined;
  }
}

function glueMemory(glue: IcedApi): WasmMemory {
  return (glue as unknown as { __wasm: { memory: WasmMemory } }).__wasm.memory;
}

/** node_modules/.cache/hvci-build first, then the temp directory, unless HVCI_CACHE_DIR says where. */
function cacheFiles(name: string, nodeModules: string): string[] {
  const override = process.env.HVCI_CACHE_DIR;
  return override ? [join(override, name)] : [join(nodeModules, '.cache', 'hvci-build', name), join(tmpdir(), 'hvci-build-cache', name)];
}

function writeFirst(files: readonly string[], data: Uint8Array): void {
  for (const file of files) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      // Unique per process and per worker thread: each writes its own, then renames.
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, file);
      return;
    } catch {
      // not writable: try the next place
    }
  }
}

function readFirst(files: readonly string[]): Buffer | undefined {
  for (const f of files) {
    try {
      return readFileSync(f);
    } catch {
      // not there
    }
  }
  return undefined;
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
