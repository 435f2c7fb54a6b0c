/**
 * Images hvci-build does not fully check are not malformed: another machine's
 * image gets a skipped-check note naming the machine, and a data directory with
 * RVA 0 is absent, as the Windows loader takes it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import type { FileResult } from '../src/findings.js';
import { buildFixture } from './fixtures/build.js';
import { runCli } from './helpers/cli.js';
import { copyOf, loadEditable, type Editable } from './helpers/image-edit.js';
import { tempDir } from './helpers/toolchain.js';

const rules = (r: FileResult): string[] => r.findings.map((f) => f.rule).sort();
const withMachine = (e: Editable, machine: number): Buffer => {
  const b = copyOf(e);
  b.writeUInt16LE(machine, e.headers.peOffset + 4);
  return b;
};

let dir: string;
let clean: Editable;
let legacy: Editable;
let straddle: Editable;

beforeAll(async () => {
  dir = tempDir('machines');
  const load = async (name: 'clean-x64' | 'legacy-x64' | 'straddle-x64') => loadEditable(await buildFixture(name));
  [clean, legacy, straddle] = await Promise.all([load('clean-x64'), load('legacy-x64'), load('straddle-x64')]);
});

describe('a machine hvci-build does not check', () => {
  it('an IA-64 image (0x200) is not malformed: a skipped-check note names the machine', () => {
    const r = checkImage(withMachine(clean, 0x200));
    expect(rules(r)).not.toContain('malformed');
    const notes = r.findings.filter((f) => /machine IA-64 \(0x200\) is not supported/.test(f.message));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.rule).toBe('skipped-check');
    expect(notes[0]!.severity).toBe('note');
    // The header and section rules still run: the same findings as the x64 original, plus the note.
    expect(rules(r).filter((x) => x !== 'skipped-check')).toEqual(rules(checkImage(clean.bytes)));
  });

  it('its relocations are not read (their types mean other things there), and the note says so', () => {
    expect(rules(checkImage(straddle.bytes))).toContain('straddling-reloc');
    const r = checkImage(withMachine(straddle, 0x200));
    expect(rules(r)).not.toContain('straddling-reloc');
    expect(r.findings.some((f) => f.rule === 'skipped-check' && /base relocations and code were not checked/.test(f.message))).toBe(true);
  });

  it('a machine value outside the specification is named unknown, with its hex', () => {
    const r = checkImage(withMachine(clean, 0x1234));
    expect(rules(r)).not.toContain('malformed');
    expect(r.findings.some((f) => f.rule === 'skipped-check' && /machine unknown \(0x1234\)/.test(f.message))).toBe(true);
  });

  it('ARM (0x1c4) is still checked: no such note', () => {
    expect(checkImage(withMachine(clean, 0x1c4)).findings.some((f) => /is not supported/.test(f.message))).toBe(false);
  });

  it('check exits 0 for it, in a batch too; header problems still fail it', async () => {
    const ia64 = join(dir, 'ia64.sys');
    writeFileSync(ia64, withMachine(clean, 0x200));
    const cleanPath = join(dir, 'clean.sys');
    writeFileSync(cleanPath, clean.bytes);
    const one = await runCli(['check', ia64]);
    expect(one.exitCode, one.stdout + one.stderr).toBe(0);
    expect(one.stdout).toMatch(/note skipped-check: machine IA-64 \(0x200\) is not supported/);
    const batch = await runCli(['check', '--format', 'json', ia64, cleanPath]);
    expect(batch.exitCode).toBe(0);
    expect(JSON.parse(batch.stdout).summary.unchecked).toBe(0);
    // W+X .data and no NX_COMPAT are errors whatever the machine.
    const legacyIa64 = join(dir, 'legacy-ia64.sys');
    writeFileSync(legacyIa64, withMachine(legacy, 0x200));
    const bad = await runCli(['check', legacyIa64]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/error wx-section/);
    expect(bad.stdout).toMatch(/error nx-compat/);
  });
});

describe('a data directory with RVA 0 and a non-zero size is absent, not malformed', () => {
  const zeroRva = (e: Editable, index: number): Buffer => {
    const b = copyOf(e);
    const entry = e.headers.dataDirectories[index]!;
    expect(entry.size).toBeGreaterThan(0);
    b.writeUInt32LE(0, entry.entryOffset);
    return b;
  };

  it('the base relocation directory: no relocations, so none straddles', () => {
    const r = checkImage(zeroRva(straddle, 5));
    expect(rules(r)).not.toContain('malformed');
    expect(rules(r)).not.toContain('straddling-reloc');
    expect(rules(r)).toEqual(rules(checkImage(straddle.bytes)).filter((x) => x !== 'straddling-reloc'));
  });

  it('the import directory', () => {
    const r = checkImage(zeroRva(clean, 1));
    expect(rules(r)).not.toContain('malformed');
  });

  it('the IAT directory: the IAT is then found from the import descriptors', () => {
    const r = checkImage(zeroRva(legacy, 12));
    expect(rules(r)).not.toContain('malformed');
    expect(rules(r)).toContain('iat-in-exec');
  });
});
