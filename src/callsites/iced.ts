/**
 * Loads iced-x86 when the byte scan found something to decode, and not before: its
 * 924 KB of CommonJS glue and 784 KB of wasm cost tens of milliseconds, more than a whole
 * check of most drivers. Measured on a cold `hvci-build check` (Node 20, x64):
 *
 * - `import()` runs Node's ESM loader (cjs-module-lexer) over the glue: ~140 ms.
 *   createRequire: ~35 ms, of which parsing and compiling the glue are ~10 ms.
 * - The decoder builds its opcode tables inside wasm on first use: 10 to 20 ms, every run.
 *
 * So the glue is compiled through vm.Script with a V8 code cache, and the wasm memory is
 * saved once the decoder's tables are built and copied back into the next run's fresh
 * instance (wasm execution is deterministic, the tables hold no JavaScript references, and
 * the only mutable global, the stack pointer, is back at its initial value between calls).
 * Both live in node_modules/.cache/hvci-build/ (or the temp directory), keyed by iced's
 * version (HVCI_CACHE_DIR chooses another directory); both are written to a temporary
 * name and renamed, so a reader never sees half a file, and a restored instance must decode
 * a test sequence exactly right or it is thrown away for a fresh one. Any failure to read or
 * write either file falls back silently. HVCI_NO_CODE_CACHE=1 turns both off.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import type { IcedModule } from './x86.js';

let loaded: IcedModule | undefined;
/** Cache files to write after the first analysis: the code cache (once functions are compiled) and the memory image. */
const pending: { script?: Script; memory?: Buffer; codeFiles?: string[]; memoryFiles?: string[] } = {};

/** mov rax, [rip+0x10]; call [rip+0x1000]; vzeroupper (VEX); vmovups zmm0, zmm1 (EVEX). */
const PROBE = Uint8Array.from([0x48, 0x8b, 0x05, 0x10, 0, 0, 0, 0xff, 0x15, 0, 0x10, 0, 0, 0xc5, 0xf8, 0x77, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0xc1]);

export function loadIced(): IcedModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  loaded = process.env.HVCI_NO_CODE_CACHE ? (require('iced-x86') as IcedModule) : loadCached(require);
  return loaded;
}

/** Writes the caches once, after a first analysis compiled the functions it uses. */
export function saveIcedCodeCache(): void {
  const { script, memory, codeFiles, memoryFiles } = pending;
  pending.script = undefined;
  pending.memory = undefined;
  if (script && codeFiles) {
    try {
      writeFirst(codeFiles, script.createCachedData());
    } catch {
      // no code cache this time
    }
  }
  if (memory && memoryFiles) writeFirst(memoryFiles, memory);
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

function loadCached(require: NodeJS.Require): IcedModule {
  let path: string;
  let dir: string;
  let key: string;
  let source: string;
  try {
    path = require.resolve('iced-x86');
    dir = dirname(path);
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '0';
    const wasmSize = statSync(join(dir, 'iced_x86_bg.wasm')).size;
    // The glue is ASCII outside its comments: latin1 decodes it faster than UTF-8, to the same program.
    source = readFileSync(path, 'latin1');
    key = `iced-x86-${version}-${source.length}-${wasmSize}`;
  } catch {
    return require('iced-x86') as IcedModule;
  }
  // HVCI_CACHE_DIR puts the caches in a directory of one's own (a CI cache, a read-only install).
  const override = process.env.HVCI_CACHE_DIR;
  const places = (name: string): string[] =>
    override ? [join(override, name)] : [join(dirname(dir), '.cache', 'hvci-build', name), join(tmpdir(), 'hvci-build-cache', name)];
  const codeFiles = places(`${key}-v8-${process.versions.v8}-${process.arch}.cache`);
  const memoryFiles = places(`${key}-tables.wasm-memory`);

  let evaluate: () => IcedModule;
  try {
    const cachedData = readFirst(codeFiles);
    const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
      filename: path,
      ...(cachedData ? { cachedData } : {}),
    });
    const fn = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
    const req = createRequire(path);
    // Each evaluation makes a new module with its own wasm instance.
    evaluate = () => {
      const module = { exports: {} as IcedModule };
      fn.call(module.exports, module.exports, req, module, path, dir);
      return module.exports;
    };
    if (!cachedData || script.cachedDataRejected) {
      pending.script = script;
      pending.codeFiles = codeFiles;
    }
  } catch {
    evaluate = () => require('iced-x86') as IcedModule;
  }

  const iced = evaluate();
  const image = readFirst(memoryFiles);
  if (image && restoreMemory(iced, image)) {
    if (probe(iced, false)) return iced;
    // A wrong image: start again from a fresh instance, and replace the image.
    const fresh = evaluate();
    return warm(fresh, memoryFiles);
  }
  return warm(iced, memoryFiles);
}

/** Builds the decoder's tables in a fresh instance, and keeps a copy of its memory to save. */
function warm(iced: IcedModule, memoryFiles: string[]): IcedModule {
  try {
    if (probe(iced, true)) {
      pending.memory = Buffer.from(memoryOf(iced).buffer.slice(0));
      pending.memoryFiles = memoryFiles;
    }
  } catch {
    // no memory image this time
  }
  return iced;
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

function memoryOf(iced: IcedModule): WasmMemory {
  return (iced as unknown as { __wasm: { memory: WasmMemory } }).__wasm.memory;
}

/** Copies a saved memory image into a fresh instance, before anything else ran in it. */
function restoreMemory(iced: IcedModule, image: Buffer): boolean {
  try {
    const memory = memoryOf(iced);
    const page = 65536;
    const have = memory.buffer.byteLength;
    if (image.length % page !== 0 || image.length < have) return false;
    if (image.length > have) memory.grow((image.length - have) / page);
    new Uint8Array(memory.buffer).set(image);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes PROBE and checks every instruction. On a fresh instance (`withInfo`) this also
 * builds the decoder's and the instruction-info tables, which the memory image then holds.
 */
function probe(iced: IcedModule, withInfo: boolean): boolean {
  let decoder: InstanceType<IcedModule['Decoder']> | undefined;
  let ins: InstanceType<IcedModule['Instruction']> | undefined;
  let factory: InstanceType<IcedModule['InstructionInfoFactory']> | undefined;
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
      const regs = info.usedRegisters() as { register: number; access: number; free(): void }[];
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
