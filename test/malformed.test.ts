import { describe, expect, it, beforeAll } from 'vitest';
import { checkImage } from '../src/check-image.js';
import type { FileResult } from '../src/findings.js';
import { buildFixture } from './fixtures/build.js';
import { copyOf, loadEditable, prng, relocDirOffset, type Editable } from './helpers/image-edit.js';

const only = (r: FileResult): string[] => r.findings.map((f) => f.rule);

function expectMalformed(bytes: Buffer, pattern: RegExp): void {
  const r = checkImage(bytes);
  expect(only(r)).toEqual(['malformed']);
  expect(r.findings[0]!.message).toMatch(pattern);
  expect(r.findings[0]!.offset).toBeTypeOf('number');
}

describe('malformed images get exactly one malformed finding', () => {
  let clean: Editable;
  beforeAll(async () => {
    clean = loadEditable(await buildFixture('clean-x64'));
  });

  it('the intact image is not malformed', () => {
    expect(only(checkImage(clean.bytes))).not.toContain('malformed');
  });

  it('truncated to 40 bytes', () => {
    expectMalformed(clean.bytes.subarray(0, 40), /too small for a DOS header/);
  });

  it('truncated inside the section table', () => {
    const cut = clean.headers.sections[1]!.headerOffset;
    expectMalformed(clean.bytes.subarray(0, cut), /section table .* runs past the end of the file/);
  });

  it('truncated inside section data', () => {
    const last = clean.headers.sections.at(-1)!;
    expectMalformed(clean.bytes.subarray(0, last.pointerToRawData + 8), /raw data .* runs past the end of the file/);
  });

  it('zeroed PE signature', () => {
    const b = copyOf(clean);
    b.writeUInt32LE(0, clean.headers.peOffset);
    expectMalformed(b, /no PE signature at e_lfanew/);
  });

  it('e_lfanew past the end', () => {
    const b = copyOf(clean);
    b.writeUInt32LE(b.length + 100, 0x3c);
    const r = checkImage(b);
    expect(only(r)).toEqual(['malformed']);
    expect(r.findings[0]!.args.field).toBe('e_lfanew');
    expect(r.findings[0]!.offset).toBe(0x3c);
  });

  it('section raw data past the end', () => {
    const b = copyOf(clean);
    const s = clean.headers.sections[0]!;
    b.writeUInt32LE(b.length, s.headerOffset + 16);
    const r = checkImage(b);
    expect(only(r)).toEqual(['malformed']);
    expect(r.findings[0]!.message).toContain(`section ${s.name} raw data`);
    expect(r.findings[0]!.offset).toBe(s.headerOffset + 16);
  });

  it('relocation block with SizeOfBlock 0', () => {
    const b = copyOf(clean);
    const { offset } = relocDirOffset(clean);
    b.writeUInt32LE(0, offset + 4);
    expectMalformed(b, /SizeOfBlock 0 /);
  });

  it('relocation block running past the directory', () => {
    const b = copyOf(clean);
    const { offset, size } = relocDirOffset(clean);
    b.writeUInt32LE(size + 8, offset + 4);
    expectMalformed(b, /runs past the end of the directory/);
  });

  it('65535 sections', () => {
    const b = copyOf(clean);
    b.writeUInt16LE(65535, clean.headers.peOffset + 6);
    expectMalformed(b, /NumberOfSections 65535/);
  });

  it('huge NumberOfRvaAndSizes', () => {
    const b = copyOf(clean);
    b.writeUInt32LE(0xffffffff, clean.headers.peOffset + 24 + 108);
    expectMalformed(b, /NumberOfRvaAndSizes 4294967295 does not fit/);
  });

  it('import directory outside every section', () => {
    const b = copyOf(clean);
    b.writeUInt32LE(clean.headers.sizeOfImage + 0x1000, clean.headers.dataDirectories[1]!.entryOffset);
    expectMalformed(b, /import directory RVA .* not inside any section/);
  });

  it('a relocation directory the loader ignores is skipped with a note, not malformed', () => {
    const b = copyOf(clean);
    // RELOCS_STRIPPED, and the directory pointing far past the file data.
    b.writeUInt16LE(clean.headers.characteristics | 1, clean.headers.characteristicsOffset);
    b.writeUInt32LE(0x7fff0000, clean.headers.dataDirectories[5]!.entryOffset);
    const r = checkImage(b);
    expect(only(r)).not.toContain('malformed');
    const note = r.findings.find((f) => f.rule === 'skipped-check');
    expect(note?.severity).toBe('note');
    expect(note?.message).toMatch(/RELOCS_STRIPPED/);
    // The rest of the image is still checked.
    expect(only(checkImage(clean.bytes)).filter((x) => x !== 'skipped-check')).toEqual(
      only(r).filter((x) => x !== 'skipped-check'),
    );
  });
});

describe('mutation run', () => {
  it('never throws, never hangs, always returns a result', async () => {
    const names = ['clean-x64', 'clean-x86', 'clean-arm64', 'legacy-x64', 'straddle-x64'] as const;
    const images = await Promise.all(names.map(async (n) => loadEditable(await buildFixture(n))));
    const rand = prng(0x5eed);
    let malformedCount = 0;
    let total = 0;
    for (const img of images) {
      // Mutations aim at the headers and directories, where the parser decides things.
      const hot = Math.min(img.bytes.length, img.headers.sections.at(-1)!.headerOffset + 40);
      for (let i = 0; i < 1000; i++) {
        let b = copyOf(img);
        const kind = rand();
        if (kind < 0.15) {
          b = b.subarray(0, Math.floor(rand() * b.length));
        } else {
          const flips = 1 + Math.floor(rand() * 8);
          for (let k = 0; k < flips; k++) {
            const at = rand() < 0.7 ? Math.floor(rand() * hot) : Math.floor(rand() * b.length);
            b[at] = Math.floor(rand() * 256);
          }
        }
        const r = checkImage(b);
        total++;
        expect(Array.isArray(r.findings)).toBe(true);
        if (r.findings.some((f) => f.rule === 'malformed')) {
          malformedCount++;
          expect(r.findings).toHaveLength(1);
        }
      }
    }
    expect(total).toBe(5000);
    // The run must exercise both paths: some mutants load, some are malformed.
    expect(malformedCount).toBeGreaterThan(100);
    expect(malformedCount).toBeLessThan(total);
  });
});
