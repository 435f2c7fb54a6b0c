// The direct binding to iced-x86's wasm (src/callsites/iced-direct.ts) against iced's own
// glue: the same export names and conversions, and the same answers on real code.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { enumsOf, type IcedApi, type IcedInstruction } from '../src/callsites/iced-api.js';
import { CALLS, DIRECT_EXPORTS, DIRECT_IMPORTS, DIRECT_VERSIONS, GETTERS, instantiateDirect } from '../src/callsites/iced-direct.js';
import { compileWasm } from '../src/callsites/wasm-runtime.js';
import { decodeSnapshot, encodeSnapshot } from '../src/callsites/iced-snapshot.js';
import { keepExports } from '../src/callsites/wasm-exports.js';
import { parseImage } from '../src/pe/image.js';
import { bufferSource } from '../src/pe/source.js';
import { buildFixture, type CallsiteFixtureName } from './fixtures/build.js';
import { prng } from './helpers/image-edit.js';

const require = createRequire(import.meta.url);
const glue = require('iced-x86') as IcedApi & Record<string, unknown>;
const icedDir = dirname(require.resolve('iced-x86'));
const wasmBytes = readFileSync(join(icedDir, 'iced_x86_bg.wasm'));
const version = (JSON.parse(readFileSync(join(icedDir, 'package.json'), 'utf8')) as { version: string }).version;
const enums = enumsOf(glue);
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: { Module: { new (b: Uint8Array): object; exports(m: object): { name: string }[]; imports(m: object): { module: string; name: string }[] } };
};

/** The source of a glue member: a getter, a setter, a method, a static or the constructor. */
function memberSource(cls: string, member: string): string {
  const c = glue[cls] as { prototype: object; toString(): string } & Record<string, unknown>;
  if (member === 'constructor') return c.toString().match(/constructor\([^)]*\) \{[\s\S]*?\n {4}\}/)![0];
  const d = Object.getOwnPropertyDescriptor(c.prototype, member) ?? Object.getOwnPropertyDescriptor(c, member)!;
  // Getter, setter and method together: CALLS names the setter of `ip`.
  return [d.get, d.set, d.value].filter(Boolean).map(String).join('\n');
}

describe('the binding matches the glue of the installed iced-x86', () => {
  it('is the version the binding was written for, so the tests below cover the fast path', () => {
    expect(DIRECT_VERSIONS).toContain(version);
  });

  it('each getter calls the same export with the same conversion', () => {
    const pattern = { raw: /return ret;/, u32: /return ret >>> 0;/, bool: /return ret !== 0;/, u64: /return BigInt\.asUintN\(64, ret\);/ };
    let rows = 0;
    for (const [cls, getters] of Object.entries(GETTERS)) {
      for (const [member, exported, conversion] of getters) {
        const src = memberSource(cls, member);
        expect(src, `${cls}.${member}`).toContain(`wasm.${exported}(`);
        expect(src, `${cls}.${member}`).toMatch(pattern[conversion]);
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(20);
  });

  it('each other member calls the same export', () => {
    for (const [key, exported] of Object.entries(CALLS)) {
      const [cls, member] = key.split('.') as [string, string];
      expect(memberSource(cls, member), key).toContain(`wasm.${exported}(`);
    }
  });

  it('the imports are the ones the binding provides, and do what it assumes', () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasmBytes));
    expect(imports.map((i) => i.module)).toEqual(imports.map(() => '__wbindgen_placeholder__'));
    expect(imports.map((i) => i.name).sort()).toEqual(Object.keys(DIRECT_IMPORTS).sort());
    const does = { drop: /takeObject\(arg0\)/, error: /new Error\(getStringFromWasm0/, array: /new Array\(\)/, push: /\.push\(getObject\(arg1\)\)/, usedRegister: /UsedRegister\.__wrap/, usedMemory: /UsedMemory\.__wrap/, instruction: /Instruction\.__wrap/, throw: /throw new Error\(getStringFromWasm0/ };
    for (const [name, role] of Object.entries(DIRECT_IMPORTS)) expect(String(glue[name]), name).toMatch(does[role]);
  });
});

describe('keepExports', () => {
  it('keeps exactly the exports asked for, and the module still compiles', () => {
    const trimmed = keepExports(wasmBytes, DIRECT_EXPORTS);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(trimmed)).map((e) => e.name);
    expect(names.sort()).toEqual([...DIRECT_EXPORTS].sort());
    expect(WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes)).length).toBeGreaterThan(700);
  });

  it('refuses a name that is not exported, and what is not wasm', () => {
    expect(() => keepExports(wasmBytes, ['memory', 'no_such_export'])).toThrow(/not exported: no_such_export/);
    expect(() => keepExports(Buffer.from('MZ not wasm'), ['memory'])).toThrow(/not a WebAssembly module/);
    expect(() => keepExports(wasmBytes.subarray(0, 5000), ['memory'])).toThrow(/runs past the end/);
  });
});

describe('the binding decodes as the glue does', () => {
  let direct: IcedApi;
  const texts: { name: string; bitness: 32 | 64; bytes: Buffer }[] = [];

  beforeAll(async () => {
    direct = instantiateDirect(compileWasm(keepExports(wasmBytes, DIRECT_EXPORTS)), enums).api;
    for (const [name, bitness] of [['callsite-pool-x64-o2', 64], ['callsite-pool-x64-od', 64], ['callsite-pool-x86-o2', 32]] as const) {
      const bytes = readFileSync(await buildFixture(name as CallsiteFixtureName));
      const parsed = parseImage(bufferSource(bytes));
      if (!parsed.ok) throw parsed.error;
      const text = parsed.image.headers.sections.find((s) => s.name === '.text')!;
      texts.push({ name, bitness, bytes: bytes.subarray(text.pointerToRawData, text.pointerToRawData + text.sizeOfRawData) });
    }
    // Random bytes reach opcodes (and invalid encodings) that compiled drivers do not.
    const rand = prng(0x1ced);
    for (const bitness of [32, 64] as const) texts.push({ name: `random-${bitness}`, bitness, bytes: Buffer.from(Array.from({ length: 16384 }, () => Math.floor(rand() * 256))) });
  }, 600_000);

  /** Everything the analysis reads of each instruction, as plain data. */
  function decodeAll(iced: IcedApi, bitness: number, bytes: Uint8Array): unknown[] {
    const out: unknown[] = [];
    const decoder = new iced.Decoder(bitness, bytes, iced.DecoderOptions.None);
    const ins = new iced.Instruction();
    const factory = new iced.InstructionInfoFactory();
    decoder.ip = 0x1000n;
    let length = 0;
    while (decoder.canDecode) {
      decoder.decodeOut(ins);
      // The analysis stops at the end of the bytes instead of asking canDecode.
      expect(ins.length).toBeGreaterThan(0);
      length += ins.length;
      const row: Record<string, unknown> = {};
      for (const [member] of GETTERS.Instruction) row[member] = ins[member as keyof IcedInstruction];
      const imm: bigint[] = [];
      for (let op = 0; op < ins.opCount; op++) {
        try {
          imm.push(ins.immediate(op));
        } catch (err) {
          imm.push(-1n);
          row.error = (err as Error).message;
        }
      }
      row.imm = imm;
      const info = factory.info(ins);
      row.regs = info.usedRegisters().map((u) => {
        const r = [u.register, u.access];
        u.free();
        return r;
      });
      row.mem = info.usedMemory().map((u) => {
        const m = [u.base, u.index, u.displacement, u.memorySize, u.access, iced.MemorySizeExt.size(u.memorySize)];
        u.free();
        return m;
      });
      info.free();
      out.push(row);
    }
    expect(length).toBe(bytes.length);
    factory.free();
    ins.free();
    decoder.free();
    return out;
  }

  it('every field of every instruction, on compiled drivers and random bytes', () => {
    for (const { name, bitness, bytes } of texts) {
      const ours = decodeAll(direct, bitness, bytes);
      const theirs = decodeAll(glue, bitness, bytes);
      expect(ours.length, name).toBeGreaterThan(500);
      expect(ours, name).toEqual(theirs);
    }
  });

  it('moves to a position as the glue does', () => {
    const { bytes } = texts[0]!;
    const at = (iced: IcedApi): number[] => {
      const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
      const ins = new iced.Instruction();
      const out: number[] = [];
      for (const position of [bytes.length - 1, 0, 17, 1000]) {
        decoder.position = position;
        decoder.ip = BigInt(0x1000 + position);
        decoder.decodeOut(ins);
        out.push(ins.mnemonic, ins.length, Number(ins.nearBranchTarget));
      }
      ins.free();
      decoder.free();
      return out;
    };
    expect(at(direct)).toEqual(at(glue));
  });

  it('reports errors the way the glue does (an immediate asked of an operand that has none)', () => {
    const ins = new direct.Instruction();
    const decoder = new direct.Decoder(64, Uint8Array.from([0x90]), direct.DecoderOptions.None);
    decoder.decodeOut(ins);
    expect(() => ins.immediate(0)).toThrow(Error);
    expect(() => new direct.Decoder(63, Uint8Array.from([0x90]), 0)).toThrow(Error);
    expect(() => (decoder.position = 5)).toThrow(Error);
    decoder.free();
    ins.free();
  });
});

describe('snapshots', () => {
  const source = { version: '1.0.0', wasmPath: '/x.wasm', wasmSize: 8, gluePath: '/x.js', glueSize: 1 };
  const wasm = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const fresh = new Uint8Array(2 * 65536);
  const warm = new Uint8Array(3 * 65536);
  warm[5] = 1;
  warm[2 * 65536 + 4096] = 7;

  it('keep only the pages that differ from a fresh instance, and restore them', () => {
    const data = encodeSnapshot(3, 'b1', source, wasm, enums, fresh, warm);
    expect(data.length).toBeLessThan(3 * 4096 + 4096);
    const s = decodeSnapshot(data, 3, 'b1')!;
    expect(s.source).toEqual(source);
    expect(Buffer.from(s.wasm).equals(Buffer.from(wasm))).toBe(true);
    expect(s.enums.Mnemonic.Mov).toBe(glue.Mnemonic.Mov);
    let buffer = new ArrayBuffer(2 * 65536);
    const memory = {
      get buffer() {
        return buffer;
      },
      grow(pages: number) {
        const b = new ArrayBuffer(buffer.byteLength + pages * 65536);
        new Uint8Array(b).set(new Uint8Array(buffer));
        buffer = b;
        return 0;
      },
    };
    expect(s.restore(memory)).toBe(true);
    expect(Buffer.from(buffer).equals(Buffer.from(warm))).toBe(true);
  });

  it('are refused in another format or for another binding, truncated, or not snapshots', () => {
    const data = encodeSnapshot(3, 'b1', source, wasm, enums, fresh, warm);
    expect(decodeSnapshot(data, 2, 'b1')).toBeUndefined();
    expect(decodeSnapshot(data, 3, 'b2')).toBeUndefined();
    expect(decodeSnapshot(data.subarray(0, data.length - 1), 3, 'b1')).toBeUndefined();
    expect(decodeSnapshot(Buffer.concat([data, Buffer.alloc(1)]), 3, 'b1')).toBeUndefined();
    expect(decodeSnapshot(Buffer.from('not a snapshot at all'), 3, 'b1')).toBeUndefined();
    const badJson = Buffer.from(data);
    badJson[6] = 0x7b;
    expect(decodeSnapshot(badJson, 3, 'b1')).toBeUndefined();
  });
});
