import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/toolchain.js';
import { checkImage } from '../src/check-image.js';
import type { FileResult, Severity } from '../src/findings.js';
import { escapeData, escapeProperty, githubReporter } from '../src/report/github.js';
import { displayPath } from '../src/report/paths.js';
import { makeReport } from '../src/report/summary.js';
import { isExecutable, isWritable } from '../src/rules/section-flags.js';
import { buildFixture } from './fixtures/build.js';
import { loadEditable } from './helpers/image-edit.js';

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

/** `::cmd file=…,title=…::message`, with no unescaped ',' ':' CR or LF in the property values. */
const LINE = /^::(error|warning|notice) file=([^,:\r\n]*),title=([^,:\r\n]*)::([^\r\n]*)$/;

/** Inverse of @actions/core's escaping, to compare what the runner will show. */
const unescape = (s: string): string =>
  s.replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');

/** A section name with every character that needs escaping (8 bytes, latin1). */
const ODD_SECTION = 'd%,:\r\nx';
const ODD_FILE = 'a,b:c%d.sys';

describe('GitHub Actions annotations', () => {
  let cwd: string;
  let files: FileResult[];
  let output: string;

  beforeAll(async () => {
    cwd = tempDir('github');
    mkdirSync(join(cwd, 'odd dir'));

    // legacy-x64 (W+X .data, IAT in .text, no NX_COMPAT) with its W+X section renamed.
    const legacy = loadEditable(await buildFixture('legacy-x64'));
    const bytes = Buffer.from(legacy.bytes);
    const wx = legacy.headers.sections.find((s) => isWritable(s) && isExecutable(s));
    expect(wx, 'legacy-x64 has a W+X section').toBeDefined();
    bytes.fill(0, wx!.headerOffset, wx!.headerOffset + 8);
    bytes.write(ODD_SECTION, wx!.headerOffset, 'latin1');
    const odd = join(cwd, 'odd dir', ODD_FILE);
    writeFileSync(odd, bytes);

    const ddi = join(cwd, 'ddi.sys');
    copyFileSync(await buildFixture('affected-ddi-x64'), ddi);
    const clean = join(cwd, 'clean.sys');
    copyFileSync(await buildFixture('clean-x64'), clean);
    const broken = join(cwd, 'broken.sys');
    writeFileSync(broken, readFileSync(clean).subarray(0, 300));

    files = [
      // nx-compat lowered to a warning, so all three levels appear.
      checkImage(odd, { rules: { 'nx-compat': 'warning' } }),
      checkImage(ddi),
      checkImage(clean),
      checkImage(broken),
    ];
    output = githubReporter(makeReport(files), { cwd, color: false, toolVersion: '1.2.3', includeNotes: true });
  }, 300_000);

  afterAll(() => {
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('escapes data and properties as @actions/core does', () => {
    expect(escapeData('100%, a:b\r\nc %0A')).toBe('100%25, a:b%0D%0Ac %250A');
    expect(escapeProperty('100%, a:b\r\nc %0A')).toBe('100%25%2C a%3Ab%0D%0Ac %250A');
  });

  it('prints one line per finding and nothing else', () => {
    const total = files.reduce((n, f) => n + f.findings.length, 0);
    expect(output.endsWith('\n')).toBe(true);
    const lines = output.slice(0, -1).split('\n');
    expect(lines).toHaveLength(total);
    for (const line of lines) expect(line).toMatch(LINE);
  });

  it('maps severities to error, warning and notice', () => {
    const lines = output.slice(0, -1).split('\n');
    const findings = files.flatMap((f) => f.findings);
    findings.forEach((f, i) => expect(lines[i]!.startsWith(`::${COMMAND[f.severity]} `)).toBe(true));
    const commands = new Set(lines.map((l) => l.match(LINE)![1]));
    expect(commands).toEqual(new Set(['error', 'warning', 'notice']));
  });

  it('round-trips path, rule and message through the escaping', () => {
    const lines = output.slice(0, -1).split('\n');
    const expected = files.flatMap((file) =>
      file.findings.map((f) => ({ path: displayPath(file.path, cwd), title: `hvci-build ${f.rule}`, message: f.message })),
    );
    expect(
      lines.map((l) => {
        const m = l.match(LINE)!;
        return { path: unescape(m[2]!), title: unescape(m[3]!), message: unescape(m[4]!) };
      }),
    ).toEqual(expected);
  });

  it('escapes %, comma, colon and newlines in the file and the message', () => {
    const line = output.split('\n').find((l) => l.includes('hvci-build wx-section'));
    expect(line).toBeDefined();
    expect(line!.startsWith('::error file=odd dir/a%2Cb%3Ac%25d.sys,title=hvci-build wx-section::section d%25,:%0D%0Ax is writable')).toBe(
      true,
    );
  });

  it('the malformed file is an error on that file', () => {
    expect(output).toMatch(/^::error file=broken\.sys,title=hvci-build malformed::.+$/m);
  });

  it('notes are annotations only with includeNotes: the rest is the same', () => {
    const noted = files.flatMap((f) => f.findings).filter((f) => f.severity === 'note');
    expect(noted.length).toBeGreaterThan(0);
    const without = githubReporter(makeReport(files), { cwd, color: false, toolVersion: '' });
    expect(without).not.toMatch(/^::notice /m);
    expect(without).toBe(
      output
        .split('\n')
        .filter((l) => !l.startsWith('::notice '))
        .join('\n'),
    );
    expect(output.split('\n').filter((l) => l.startsWith('::notice '))).toHaveLength(noted.length);
  });

  it('notes that say the check could not decide (unknown-pool-type, skipped-check) are annotations without includeNotes', async () => {
    // callsite-pool: a pool type read from memory (unknown-pool-type) beside the errors.
    const r = checkImage(await buildFixture('callsite-pool-x64-o2'));
    const undecided = r.findings.filter((f) => f.rule === 'unknown-pool-type');
    expect(undecided.length).toBeGreaterThan(0);
    const out = githubReporter(makeReport([r]), { cwd, color: false, toolVersion: '' });
    expect(out.split('\n').filter((l) => l.startsWith('::notice ') && l.includes('unknown-pool-type'))).toHaveLength(undecided.length);
    expect(out).not.toMatch(/affected-ddi-import/);
  });

  it('a clean file and an empty report print nothing', () => {
    const clean = files[2]!;
    expect(githubReporter(makeReport([{ ...clean, findings: [] }]), { cwd, color: false, toolVersion: '' })).toBe('');
    expect(githubReporter(makeReport([]), { cwd, color: false, toolVersion: '' })).toBe('');
  });
});
