import { beforeAll, describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { jsonReporter } from '../src/report/json.js';
import { makeReport } from '../src/report/summary.js';
import { buildFixture } from './fixtures/build.js';

/** The schema README.md documents, checked field by field. */
function assertReportShape(doc: any): void {
  expect(Object.keys(doc).sort()).toEqual(['files', 'summary', 'version']);
  expect(doc.version).toBe(1);
  for (const file of doc.files) {
    expect(Object.keys(file).sort()).toEqual(['findings', 'path']);
    expect(typeof file.path).toBe('string');
    for (const f of file.findings) {
      for (const key of Object.keys(f)) {
        expect(['rule', 'severity', 'message', 'section', 'rva', 'offset', 'length', 'args']).toContain(key);
      }
      expect(typeof f.rule).toBe('string');
      expect(['error', 'warning', 'note']).toContain(f.severity);
      expect(typeof f.message).toBe('string');
      expect(typeof f.args).toBe('object');
      if ('section' in f) expect(typeof f.section).toBe('string');
      for (const k of ['rva', 'offset', 'length']) if (k in f) expect(Number.isInteger(f[k])).toBe(true);
    }
  }
  expect(Object.keys(doc.summary).sort()).toEqual(['errors', 'files', 'notes', 'skippedRejected', 'unchecked', 'warnings']);
}

describe('JSON report', () => {
  let doc: any;
  beforeAll(async () => {
    const legacy = checkImage(await buildFixture('legacy-x64'));
    const straddle = checkImage(await buildFixture('straddle-x64'));
    const broken = checkImage(Buffer.from('MZ'), {}, 'broken.sys');
    doc = JSON.parse(jsonReporter(makeReport([legacy, straddle, broken]), { cwd: process.cwd(), color: false, toolVersion: '' }));
  });

  it('has the documented shape', () => {
    assertReportShape(doc);
  });

  it('counts findings in the summary', () => {
    const all = doc.files.flatMap((f: any) => f.findings);
    expect(doc.summary.errors).toBe(all.filter((f: any) => f.severity === 'error').length);
    expect(doc.summary.files).toBe(3);
    expect(doc.summary.unchecked).toBe(1);
  });

  it('a malformed file is a file with one malformed finding', () => {
    const broken = doc.files[2];
    expect(broken.path).toBe('broken.sys');
    expect(broken.findings).toHaveLength(1);
    expect(broken.findings[0].rule).toBe('malformed');
  });

  it('relocation findings carry section, rva and the entry offset', () => {
    const f = doc.files[1].findings.find((x: any) => x.rule === 'straddling-reloc');
    expect(f.section).toBeTypeOf('string');
    expect(f.length).toBe(2);
    expect(f.offset).toBeGreaterThan(0);
  });
});
