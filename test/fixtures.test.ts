import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { findTool } from '../src/toolchain/find-tool.js';
import { buildAllFixtures, buildFixture, FIXTURES, type FixtureName } from './fixtures/build.js';

const names = Object.keys(FIXTURES) as FixtureName[];

describe('fixtures', () => {
  it('builds every fixture into an MZ image', async () => {
    const all = await buildAllFixtures();
    expect(Object.keys(all).sort()).toEqual([...names].sort());
    for (const name of names) {
      const path = all[name];
      expect(isAbsolute(path)).toBe(true);
      expect(path.endsWith('.sys')).toBe(true);
      expect(readFileSync(path).subarray(0, 2).toString('latin1')).toBe('MZ');
    }
  });

  it('a second buildFixture call comes from the cache', async () => {
    for (const name of names) {
      const first = await buildFixture(name);
      const before = statSync(first);
      const second = await buildFixture(name);
      const after = statSync(second);
      expect(second).toBe(first);
      expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    }
  });
});

// --- what llvm-readobj sees: the main points of each fixture's `what` line ---------------

const R = 0x40000000;
const W = 0x80000000;
const X = 0x20000000;
const D = 0x02000000;
const CODE = 0x20;
const NX_COMPAT = 0x100;
const WIDTH: Record<string, number> = { DIR64: 8, HIGHLOW: 4, HIGH: 2, LOW: 2, HIGHADJ: 2 };

interface Section {
  name: string;
  va: number;
  size: number;
  chars: number;
}
interface Image {
  fileChars: number;
  dllChars: number;
  sectionAlignment: number;
  entry: number;
  symbolTable: number;
  iat: number;
  relocDir: number;
  sections: Section[];
  imports: string[];
  relocs: { type: string; rva: number }[];
}

const hex = (s: string | undefined): number => parseInt(s ?? 'NaN', 16);
const SECTION =
  /Section \{\s+Number: \d+\s+Name: (\S+)[^\n]*\s+VirtualSize: 0x([0-9A-F]+)\s+VirtualAddress: 0x([0-9A-F]+)[\s\S]*?Characteristics \[ \(0x([0-9A-F]+)\)/g;

async function readobj(path: string, tool: string): Promise<Image> {
  const { stdout } = await execa(tool, ['--file-headers', '--sections', '--coff-basereloc', '--coff-imports', path]);
  const field = (re: RegExp): number => hex(re.exec(stdout)?.[1]);
  const num = (key: string): number => Number(new RegExp(`\\b${key}: (\\S+)`).exec(stdout)?.[1]);
  return {
    fileChars: field(/ImageFileHeader \{[^}]*?Characteristics \[ \(0x([0-9A-F]+)\)/),
    dllChars: field(/ImageOptionalHeader \{[\s\S]*?Characteristics \[ \(0x([0-9A-F]+)\)/),
    sectionAlignment: num('SectionAlignment'),
    entry: field(/AddressOfEntryPoint: 0x([0-9A-F]+)/),
    symbolTable: field(/PointerToSymbolTable: 0x([0-9A-F]+)/),
    iat: field(/IATRVA: 0x([0-9A-F]+)/),
    relocDir: field(/BaseRelocationTableRVA: 0x([0-9A-F]+)/),
    sections: [...stdout.matchAll(SECTION)].map((m) => ({
      name: m[1]!,
      size: hex(m[2]),
      va: hex(m[3]),
      chars: hex(m[4]),
    })),
    imports: [...stdout.matchAll(/Symbol: (\w+)/g)].map((m) => m[1]!),
    relocs: [...stdout.matchAll(/Type: (\w+)\s+Address: 0x([0-9A-F]+)/g)]
      .filter((m) => m[1] !== 'ABSOLUTE')
      .map((m) => ({ type: m[1]!, rva: hex(m[2]) })),
  };
}

const sectionAt = (img: Image, rva: number): Section | undefined =>
  img.sections.find((s) => rva >= s.va && rva < s.va + Math.max(s.size, 1));
const section = (img: Image, name: string): Section => {
  const s = img.sections.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no section ${name}`);
  return s;
};
const straddlers = (img: Image): number =>
  img.relocs.filter((r) => (r.rva & 0xfff) + (WIDTH[r.type] ?? 0) > 0x1000).length;

/** What every fixture has unless its `what` says otherwise. */
function expectClean(img: Image, except: { nx?: boolean; iatExec?: boolean; wx?: string[] } = {}): void {
  expect(img.sectionAlignment).toBe(0x1000);
  expect((img.dllChars & NX_COMPAT) !== 0).toBe(except.nx ?? true);
  expect(img.sections.filter((s) => (s.chars & (W | X)) === (W | X)).map((s) => s.name)).toEqual(except.wx ?? []);
  const iat = sectionAt(img, img.iat);
  expect(((iat?.chars ?? 0) & X) !== 0).toBe(except.iatExec ?? false);
  expect(iat?.name).toBe(except.iatExec ? '.text' : '.rdata');
  expect(((sectionAt(img, img.entry)?.chars ?? 0) & X) !== 0).toBe(true);
  expect(straddlers(img)).toBe(0);
}

const CHECKS: Record<FixtureName, (img: Image) => void> = {
  'clean-x64': (img) => {
    expectClean(img);
    expect(img.relocs.map((r) => r.type)).toEqual(['DIR64']);
    expect(img.imports).toEqual(['ExAllocatePoolWithTag', 'ExFreePoolWithTag']);
  },
  'clean-x86': (img) => {
    expectClean(img);
    expect(img.relocs.length).toBeGreaterThan(0);
    expect(new Set(img.relocs.map((r) => r.type))).toEqual(new Set(['HIGHLOW']));
    expect(img.imports).toEqual(['ExAllocatePoolWithTag', 'ExFreePoolWithTag']);
  },
  'clean-arm64': (img) => {
    expectClean(img);
    expect(img.relocs.map((r) => r.type)).toEqual(['DIR64']);
  },
  'clean-x64-dwarf': (img) => {
    expectClean(img);
    expect(img.symbolTable).toBeGreaterThan(0);
  },
  'wx-data-x64': (img) => {
    expectClean(img, { wx: ['.data'] });
    expect(section(img, '.data').chars & CODE).toBe(0);
  },
  'text-rwx-x64': (img) => {
    expectClean(img, { wx: ['.text'] });
    expect(section(img, '.text').chars & CODE).toBe(CODE);
  },
  'writable-code-x64': (img) => {
    expectClean(img);
    expect(section(img, 'PAGEW').chars).toBe((CODE | R | W) >>> 0);
    expect(sectionAt(img, img.entry)?.name).toBe('.text');
  },
  'init-rwx-x64': (img) => {
    expectClean(img, { wx: ['INIT'] });
    expect(section(img, 'INIT').chars).toBe((CODE | D | R | W | X) >>> 0);
    expect(sectionAt(img, img.entry)?.name).toBe('INIT');
  },
  'init-d-x64': (img) => {
    expect(section(img, 'INIT').chars).toBe(CODE | D);
    expect(sectionAt(img, img.entry)?.name).toBe('INIT');
  },
  'no-perms-x64': (img) => {
    expectClean(img);
    expect(section(img, '.retplne').chars).toBe(0);
  },
  'align-200-x64': (img) => {
    expect(img.sectionAlignment).toBe(0x200);
    expect(img.sections.every((s) => s.va % 0x1000 !== 0)).toBe(true);
  },
  'iat-in-text-x64': (img) => {
    expectClean(img, { iatExec: true });
    expect(img.sections.map((s) => s.name)).not.toContain('.rdata');
  },
  'no-nx-x64': (img) => expectClean(img, { nx: false }),
  'straddle-x64': (img) => {
    expect(img.relocs.filter((r) => r.type === 'DIR64').length).toBe(4096);
    expect(straddlers(img)).toBeGreaterThan(0);
  },
  'straddle-x86': (img) => {
    expect(img.relocs.filter((r) => r.type === 'HIGHLOW').length).toBeGreaterThanOrEqual(4096);
    expect(straddlers(img)).toBeGreaterThan(0);
  },
  'straddle-arm64': (img) => {
    expect(img.relocs.filter((r) => r.type === 'DIR64').length).toBe(4096);
    expect(straddlers(img)).toBeGreaterThan(0);
  },
  'affected-ddi-x64': (img) => {
    expectClean(img);
    const ddis = ['MmMapIoSpace', 'MmMapLockedPagesSpecifyCache', 'ZwAllocateVirtualMemory', 'ExAllocatePoolWithTag'];
    expect(img.imports).toEqual(expect.arrayContaining(ddis));
  },
  'fixed-x64': (img) => {
    expectClean(img);
    expect(img.fileChars & 1).toBe(1);
    expect(img.relocDir).toBe(0);
  },
  'legacy-x64': (img) => expectClean(img, { nx: false, iatExec: true, wx: ['.data'] }),
};

describe('fixtures as llvm-readobj sees them', () => {
  const tool = findTool('llvm-readobj');
  for (const name of names) {
    it.skipIf(tool === undefined)(`${name}: ${FIXTURES[name].what}`, async () => {
      CHECKS[name](await readobj(await buildFixture(name), tool!));
    });
  }
});
