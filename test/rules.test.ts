import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import type { FileResult, Finding } from '../src/findings.js';
import { findTool } from '../src/toolchain/find-tool.js';
import { buildFixture } from './fixtures/build.js';

const check = async (name: Parameters<typeof buildFixture>[0], options = {}): Promise<FileResult> =>
  checkImage(await buildFixture(name), options);
const byRule = (r: FileResult, rule: string): Finding[] => r.findings.filter((f) => f.rule === rule);
const serious = (r: FileResult): Finding[] => r.findings.filter((f) => f.severity !== 'note');

describe('clean drivers', () => {
  for (const name of ['clean-x64', 'clean-x86', 'clean-arm64', 'clean-x64-dwarf'] as const) {
    it(`${name} has no error or warning`, async () => {
      const r = await check(name);
      expect(serious(r)).toEqual([]);
      // It imports ExAllocatePoolWithTag, which the inventory note lists.
      expect(byRule(r, 'affected-ddi-import')[0]?.args.ddis).toContain('ExAllocatePoolWithTag');
    });
  }
});

describe('section rules', () => {
  it('wx-section: a W+X data section, and no writable-code since it holds no code', async () => {
    const r = await check('wx-data-x64');
    const wx = byRule(r, 'wx-section');
    expect(wx.map((f) => f.section)).toEqual(['.data']);
    expect(wx[0]!.severity).toBe('error');
    expect(wx[0]!.args.permissions).toBe('RWX');
    expect(byRule(r, 'writable-code')).toEqual([]);
  });

  it('an RWX .text gives both wx-section and writable-code', async () => {
    const r = await check('text-rwx-x64');
    expect(byRule(r, 'wx-section').map((f) => f.section)).toEqual(['.text']);
    expect(byRule(r, 'writable-code').map((f) => f.section)).toEqual(['.text']);
  });

  it('writable-code: a writable, non-executable code section', async () => {
    const r = await check('writable-code-x64');
    expect(byRule(r, 'writable-code').map((f) => f.section)).toEqual(['PAGEW']);
    expect(byRule(r, 'wx-section')).toEqual([]);
    expect(byRule(r, 'code-not-executable')).toEqual([]);
  });

  it('init-rwx: the old WDK INIT is a warning, not wx-section', async () => {
    const r = await check('init-rwx-x64');
    const init = byRule(r, 'init-rwx');
    expect(init).toHaveLength(1);
    expect(init[0]!.severity).toBe('warning');
    expect(init[0]!.section).toBe('INIT');
    expect(byRule(r, 'wx-section')).toEqual([]);
    expect(byRule(r, 'writable-code')).toEqual([]);
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('--strict makes init-rwx an error; a rule override can turn it off', async () => {
    expect(byRule(await check('init-rwx-x64', { strict: true }), 'init-rwx')[0]!.severity).toBe('error');
    expect(byRule(await check('init-rwx-x64', { rules: { 'init-rwx': 'off' } }), 'init-rwx')).toEqual([]);
  });

  it('code-not-executable: WDK /SECTION:INIT,d under lld-link', async () => {
    const r = await check('init-d-x64');
    const f = byRule(r, 'code-not-executable');
    expect(f).toHaveLength(1);
    expect(f[0]!.section).toBe('INIT');
  });

  it('no-permissions: a kept section with no R, W or X', async () => {
    const r = await check('no-perms-x64');
    const f = byRule(r, 'no-permissions');
    expect(f.length).toBeGreaterThanOrEqual(1);
    for (const x of f) expect(x.args.permissions).toBe('---');
  });

  it('section-alignment: /align:0x200', async () => {
    const r = await check('align-200-x64');
    const f = byRule(r, 'section-alignment');
    expect(f[0]!.args.what).toBe('SectionAlignment');
    expect(f[0]!.args.value).toBe('0x200');
    // Every section not on a page boundary is named.
    for (const x of f.slice(1)) expect((x.rva ?? 0) % 0x1000).not.toBe(0);
    expect(f.length).toBeGreaterThan(1);
  });

  it('nx-compat: /nxcompat:no', async () => {
    const r = await check('no-nx-x64');
    expect(byRule(r, 'nx-compat')).toHaveLength(1);
    expect(byRule(await check('clean-x64'), 'nx-compat')).toEqual([]);
  });
});

describe('iat-in-exec', () => {
  it('fires when .rdata is merged into .text', async () => {
    const r = await check('iat-in-text-x64');
    const f = byRule(r, 'iat-in-exec');
    expect(f).toHaveLength(1);
    expect(f[0]!.section).toBe('.text');
    expect(f[0]!.args.source).toBe('IAT directory');
  });

  it('falls back to the FirstThunk arrays when the IAT directory is empty', async () => {
    const { loadEditable, copyOf } = await import('./helpers/image-edit.js');
    const e = loadEditable(await buildFixture('iat-in-text-x64'));
    const b = copyOf(e);
    const dir = e.headers.dataDirectories[12]!;
    b.writeUInt32LE(0, dir.entryOffset);
    b.writeUInt32LE(0, dir.entryOffset + 4);
    const f = byRule(checkImage(b), 'iat-in-exec');
    expect(f.length).toBeGreaterThanOrEqual(1);
    expect(String(f[0]!.args.source)).toMatch(/^FirstThunk array of ntoskrnl/i);
  });
});

/** Straddling entries as llvm-readobj lists them: an independent count. */
async function readobjStraddlers(path: string): Promise<number> {
  const readobj = findTool('llvm-readobj');
  if (!readobj) throw new Error('llvm-readobj not found');
  const { stdout } = await execa(readobj, ['--coff-basereloc', path]);
  let n = 0;
  const widths: Record<string, number> = { DIR64: 8, HIGHLOW: 4, HIGH: 2, LOW: 2, HIGHADJ: 2 };
  for (const m of stdout.matchAll(/Type: (\w+)\s+Address: 0x([0-9A-F]+)/gi)) {
    const w = widths[m[1]!.toUpperCase()] ?? 0;
    if ((parseInt(m[2]!, 16) & 0xfff) + w > 0x1000) n++;
  }
  return n;
}

describe('straddling-reloc', () => {
  for (const [name, type, width] of [
    ['straddle-x64', 'DIR64', 8],
    ['straddle-x86', 'HIGHLOW', 4],
    ['straddle-arm64', 'DIR64', 8],
  ] as const) {
    it(`${name}: one finding per straddling ${type}, as llvm-readobj counts them`, async () => {
      const path = await buildFixture(name);
      const f = byRule(checkImage(path), 'straddling-reloc');
      expect(f.length).toBeGreaterThan(0);
      expect(f.length).toBe(await readobjStraddlers(path));
      for (const x of f) {
        expect(x.args.type).toBe(type);
        expect(x.args.width).toBe(width);
        expect((x.rva! & 0xfff) + width).toBeGreaterThan(0x1000);
        expect(x.severity).toBe('error');
      }
    });
  }

  it('is a warning when the minimum Windows version is 1703 or later', async () => {
    const r = await check('straddle-x64', { minWindowsBuild: 15063 });
    const f = byRule(r, 'straddling-reloc');
    expect(f.length).toBeGreaterThan(0);
    for (const x of f) expect(x.severity).toBe('warning');
    const old = byRule(await check('straddle-x64', { minWindowsBuild: 14393 }), 'straddling-reloc');
    for (const x of old) expect(x.severity).toBe('error');
  });

  it('clean images have relocations but none straddling', async () => {
    const path = await buildFixture('clean-x64');
    expect(await readobjStraddlers(path)).toBe(0);
    expect(byRule(checkImage(path), 'straddling-reloc')).toEqual([]);
  });
});

describe('affected-ddi-import', () => {
  it('lists the imported DDIs and which always allocate executable memory', async () => {
    const r = await check('affected-ddi-x64');
    const f = byRule(r, 'affected-ddi-import');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('note');
    expect(f[0]!.args.always).toBe('MmMapIoSpace');
    expect(String(f[0]!.args.conditional).split(', ').sort()).toEqual(
      ['ExAllocatePoolWithTag', 'MmMapLockedPagesSpecifyCache', 'ZwAllocateVirtualMemory'].sort(),
    );
  });
});

describe('several problems in one image', () => {
  it('legacy-x64 reports each one', async () => {
    const r = await check('legacy-x64');
    const rules = new Set(r.findings.map((f) => f.rule));
    for (const id of ['wx-section', 'iat-in-exec', 'nx-compat']) expect(rules.has(id)).toBe(true);
  });
});

describe('images pe-library cannot read', () => {
  it('an image with a COFF symbol table is checked', async () => {
    const { loadEditable } = await import('./helpers/image-edit.js');
    const e = loadEditable(await buildFixture('clean-x64-dwarf'));
    expect(e.headers.pointerToSymbolTable).toBeGreaterThan(0);
    const { NtExecutable } = await import('pe-library');
    expect(() => NtExecutable.from(e.bytes)).toThrow();
    expect(serious(checkImage(e.bytes))).toEqual([]);
  });

  it('a signed image (certificate table appended) gives the same findings', async () => {
    const { loadEditable } = await import('./helpers/image-edit.js');
    const e = loadEditable(await buildFixture('legacy-x64'));
    const cert = Buffer.alloc(16);
    cert.writeUInt32LE(16, 0); // dwLength
    cert.writeUInt16LE(0x0200, 4); // WIN_CERT_REVISION_2_0
    cert.writeUInt16LE(0x0002, 6); // WIN_CERT_TYPE_PKCS_SIGNED_DATA
    const signed = Buffer.concat([e.bytes, cert]);
    const dir = e.headers.dataDirectories[4]!;
    signed.writeUInt32LE(e.bytes.length, dir.entryOffset);
    signed.writeUInt32LE(cert.length, dir.entryOffset + 4);
    const rules = (b: Buffer): string[] => checkImage(b).findings.map((f) => `${f.rule}:${f.section ?? ''}`);
    expect(rules(signed)).toEqual(rules(e.bytes));
  });

  it('section headers agree with pe-library on a clean image', async () => {
    const { loadEditable } = await import('./helpers/image-edit.js');
    const { NtExecutable } = await import('pe-library');
    for (const name of ['clean-x64', 'clean-x86', 'clean-arm64'] as const) {
      const e = loadEditable(await buildFixture(name));
      const exe = NtExecutable.from(e.bytes);
      const theirs = exe.getAllSections().map((s) => [s.info.name, s.info.virtualAddress, s.info.characteristics >>> 0]);
      const ours = e.headers.sections.map((s) => [s.name, s.virtualAddress, s.characteristics]);
      expect(ours).toEqual(theirs);
      expect(e.headers.dllCharacteristics).toBe(exe.newHeader.optionalHeader.dllCharacteristics);
    }
  });
});
