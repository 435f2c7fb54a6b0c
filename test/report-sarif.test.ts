import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/toolchain.js';
import { checkImage } from '../src/check-image.js';
import type { FileResult, Finding } from '../src/findings.js';
import { sarifReporter } from '../src/report/sarif.js';
import { makeReport } from '../src/report/summary.js';
import type { ReportOptions } from '../src/report/types.js';
import { RULES } from '../src/rules/index.js';
import { buildFixture } from './fixtures/build.js';

import { githubConfig, validate } from './helpers/sarif-multitool.js';

const FP = 'hvciFinding/v2';
const RULE_IDS = RULES.map((r) => r.meta.id);

/** Files under a temporary "repository" (the report's cwd), one with spaces and '#', plus files outside it. */
interface Workspace {
  root: string;
  cwd: string;
  paths: { clean: string; legacy: string; straddle: string; ddi: string; missing: string; truncated: string };
}

async function makeWorkspace(root: string): Promise<Workspace> {
  const cwd = join(root, 'repo');
  const paths = {
    clean: join(cwd, 'clean.sys'),
    legacy: join(cwd, 'out dir', 'legacy #1.sys'),
    straddle: join(cwd, 'drivers', 'straddle.sys'),
    ddi: join(cwd, 'drivers', 'affected ddi.sys'),
    // Inside cwd but absent: an unreadable finding, which has no byte range.
    missing: join(cwd, 'drivers', 'missing.sys'),
    // Outside cwd: an absolute file URI.
    truncated: join(root, 'elsewhere', 'truncated.sys'),
  };
  mkdirSync(join(cwd, 'out dir'), { recursive: true });
  mkdirSync(join(cwd, 'drivers'), { recursive: true });
  mkdirSync(join(root, 'elsewhere'), { recursive: true });
  copyFileSync(await buildFixture('clean-x64'), paths.clean);
  copyFileSync(await buildFixture('legacy-x64'), paths.legacy);
  copyFileSync(await buildFixture('straddle-x64'), paths.straddle);
  copyFileSync(await buildFixture('affected-ddi-x64'), paths.ddi);
  const clean = readFileSync(await buildFixture('clean-x64'));
  writeFileSync(paths.truncated, clean.subarray(0, 200));
  return { root, cwd, paths };
}

function checkAll(ws: Workspace): FileResult[] {
  const p = ws.paths;
  return [p.clean, p.legacy, p.straddle, p.ddi, p.missing, p.truncated].map((path) => checkImage(path));
}

/** With --include-notes: every finding a result, so the tests below see each of them. */
function render(ws: Workspace, files: FileResult[] = checkAll(ws), includeNotes = true): { doc: any; text: string; findings: Finding[]; files: FileResult[] } {
  const options: ReportOptions = { cwd: ws.cwd, color: false, toolVersion: '1.2.3', includeNotes };
  const text = sarifReporter(makeReport(files), options);
  return { doc: JSON.parse(text), text, findings: files.flatMap((f) => f.findings), files };
}

describe('SARIF report', () => {
  let tmp: string;
  let ws: Workspace;
  let doc: any;
  let text: string;
  let findings: Finding[];
  let files: FileResult[];
  let sarifPath: string;

  beforeAll(async () => {
    tmp = tempDir('sarif');
    ws = await makeWorkspace(join(tmp, 'a'));
    ({ doc, text, findings, files } = render(ws));
    sarifPath = join(tmp, 'report.sarif');
    writeFileSync(sarifPath, text);
  }, 300_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('covers the cases it is meant to', () => {
    const rules = new Set(findings.map((f) => f.rule));
    for (const r of ['wx-section', 'iat-in-exec', 'nx-compat', 'straddling-reloc', 'affected-ddi-import', 'malformed', 'unreadable']) {
      expect(rules).toContain(r);
    }
    const levels = new Set(findings.map((f) => f.severity));
    expect(levels).toContain('error');
    expect(levels).toContain('note');
    expect(findings.some((f) => f.offset === undefined)).toBe(true);
    expect(files.find((f) => f.path === ws.paths.clean)!.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('passes the SARIF multitool validator with no errors', () => {
    const { results, stdout } = validate(sarifPath);
    const errors = results.filter((r) => r.level === 'error');
    expect(errors, stdout).toEqual([]);
  }, 120_000);

  it("passes the validator's GitHub code scanning rules, except for the file outside the checkout", () => {
    const { results, stdout } = validate(sarifPath, ['--config', githubConfig(join(tmp, 'github.xml')), '--rule-kind', 'Sarif;Ghas']);
    const errors = results.filter((r) => r.level === 'error');
    // GH1006: an absolute file URI outside the checkout cannot be shown by code scanning.
    expect(errors.filter((e) => e.ruleId !== 'GH1006'), stdout).toEqual([]);
    const outside = doc.runs[0].results
      .map((r: any, i: number) => (r.locations[0].physicalLocation.artifactLocation.uriBaseId ? -1 : i))
      .filter((i: number) => i >= 0);
    expect(outside.length).toBeGreaterThan(0);
    const flagged = errors.map((e) => Number(e.text.match(/results\[(\d+)\]/)?.[1])).sort((a, b) => a - b);
    expect(flagged).toEqual(outside);
  }, 120_000);

  it('the validator does catch problems: a missing message (schema), a region without startLine (GitHub)', () => {
    // Two files: the validator skips its semantic rules when the schema check fails.
    const noMessage = JSON.parse(text);
    delete noMessage.runs[0].results[0].message;
    const schemaPath = join(tmp, 'no-message.sarif');
    writeFileSync(schemaPath, JSON.stringify(noMessage, null, 2));
    expect(validate(schemaPath).results.filter((r) => r.level === 'error').map((r) => r.ruleId)).toContain('JSON1002');

    const noStartLine = JSON.parse(text);
    delete noStartLine.runs[0].results[0].locations[0].physicalLocation.region.startLine;
    const ghPath = join(tmp, 'no-startline.sarif');
    writeFileSync(ghPath, JSON.stringify(noStartLine, null, 2));
    const { results } = validate(ghPath, ['--config', githubConfig(join(tmp, 'github.xml')), '--rule-kind', 'Sarif;Ghas']);
    expect(results.filter((r) => r.level === 'error').map((r) => r.ruleId)).toContain('GH1003');
  }, 120_000);

  it('has one run with the tool, its version and every rule', () => {
    expect(doc.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(doc.version).toBe('2.1.0');
    expect(doc.runs).toHaveLength(1);
    const run = doc.runs[0];
    expect(run.columnKind).toBe('utf16CodeUnits');
    expect(run.invocations[0].executionSuccessful).toBe(true);
    const driver = run.tool.driver;
    expect(driver.name).toBe('hvci-build');
    expect(driver.informationUri).toBe('https://github.com/hvci-build/hvci-build');
    expect(driver.version).toBe('1.2.3');
    expect(driver.semanticVersion).toBe('1.2.3');
    expect(driver.rules.map((r: any) => r.id)).toEqual(RULE_IDS);
  });

  it('every rule has descriptions, help, a default level and a security-severity', () => {
    for (const [i, rule] of doc.runs[0].tool.driver.rules.entries()) {
      const meta = RULES[i]!.meta;
      expect(rule.name).toBe(meta.name);
      expect(rule.shortDescription.text).toBe(meta.summary);
      expect(rule.fullDescription.text).toBe(meta.explanation);
      expect(rule.fullDescription.text.length).toBeLessThanOrEqual(1024);
      for (const help of [rule.help.text, rule.help.markdown]) {
        expect(help).toContain(meta.explanation);
        expect(help).toContain(meta.fix);
      }
      expect(rule.defaultConfiguration.level).toBe(meta.defaultSeverity);
      const severity = rule.properties['security-severity'];
      expect(severity).toBe(String(meta.securitySeverity));
      expect(Number(severity)).toBeGreaterThan(0);
      expect(Number(severity)).toBeLessThanOrEqual(10);
      expect(rule.properties.tags).toEqual(['security', 'hvci']);
      expect(rule.properties.precision).toBe('very-high');
    }
  });

  it('has one result per finding, in order, with message, rule, level and region', () => {
    const results = doc.runs[0].results;
    expect(results).toHaveLength(findings.length);
    const rules = doc.runs[0].tool.driver.rules;
    results.forEach((r: any, i: number) => {
      const f = findings[i]!;
      expect(r.message.text).toBe(f.message);
      expect(r.message.text.length).toBeGreaterThan(0);
      expect(RULE_IDS).toContain(r.ruleId);
      expect(r.ruleId).toBe(f.rule);
      expect(rules[r.ruleIndex].id).toBe(r.ruleId);
      expect(r.level).toBe(f.severity);
      expect(r.locations).toHaveLength(1);
      const region = r.locations[0].physicalLocation.region;
      expect(region.startLine).toBe(1);
      if (f.offset !== undefined) {
        expect(region.byteOffset).toBe(f.offset);
        expect(region.byteLength).toBe(f.length);
      } else {
        expect(region).toEqual({ startLine: 1 });
      }
    });
  });

  it('carries section, rva (hex) and args in the result properties', () => {
    doc.runs[0].results.forEach((r: any, i: number) => {
      const f = findings[i]!;
      expect(r.properties.args).toEqual(f.args);
      expect(r.properties.section).toBe(f.section);
      expect(r.properties.rva).toBe(f.rva === undefined ? undefined : '0x' + f.rva.toString(16).toUpperCase());
    });
    expect(doc.runs[0].results.some((r: any) => r.properties.section && r.properties.rva)).toBe(true);
  });

  it('artifact URIs inside cwd are relative, percent-encoded, with uriBaseId SRCROOT', () => {
    const run = doc.runs[0];
    const base = run.originalUriBaseIds.SRCROOT.uri;
    expect(base).toBe(pathToFileURL(ws.cwd).href + '/');
    const inside = Object.values(ws.paths).filter((p) => p !== ws.paths.truncated);
    for (const r of run.results) {
      const loc = r.locations[0].physicalLocation.artifactLocation;
      if (loc.uriBaseId === undefined) continue;
      expect(loc.uriBaseId).toBe('SRCROOT');
      // Resolving the reference against SRCROOT gives back the file's path.
      const file = files.find((x) => fileURLToPath(new URL(loc.uri, base)) === x.path);
      expect(loc.uri).not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
      expect(loc.uri.startsWith('/')).toBe(false);
      expect(loc.uri).not.toMatch(/[ \\#]/);
      expect(file, loc.uri).toBeDefined();
      expect(inside).toContain(file!.path);
      // The index points at the same artifact.
      expect(run.artifacts[loc.index].location).toEqual({ uri: loc.uri, uriBaseId: 'SRCROOT' });
    }
    const legacy = run.artifacts.find((a: any) => a.location.uri.includes('legacy'));
    expect(legacy.location.uri).toBe('out%20dir/legacy%20%231.sys');
  });

  it('a file outside cwd gets an absolute file URI without uriBaseId', () => {
    const run = doc.runs[0];
    const r = run.results.find((x: any) => x.ruleId === 'malformed');
    const loc = r.locations[0].physicalLocation.artifactLocation;
    expect(loc.uriBaseId).toBeUndefined();
    expect(loc.uri).toBe(pathToFileURL(ws.paths.truncated).href);
    expect(run.artifacts[loc.index].location).toEqual({ uri: loc.uri });
  });

  it('lists each file once in run.artifacts', () => {
    const uris = doc.runs[0].artifacts.map((a: any) => a.location.uri);
    expect(new Set(uris).size).toBe(uris.length);
    expect(uris).toHaveLength(files.length);
  });

  it('each result carries its own primaryLocationLineHash, so GitHub does not merge findings of one binary', () => {
    // GitHub identifies an alert by the file's path, the rule and this hash: unique per file and rule.
    const hashes = doc.runs[0].results.map(
      (r: any) => `${r.locations[0].physicalLocation.artifactLocation.uri} ${r.ruleId} ${r.partialFingerprints.primaryLocationLineHash}`,
    );
    for (const h of hashes) expect(h).toMatch(/ [0-9a-f]{16}:[1-9]\d*$/);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('partialFingerprints are 32 hex digits, distinct, and stable across runs', () => {
    const fps = doc.runs[0].results.map((r: any) => r.partialFingerprints[FP]);
    for (const fp of fps) expect(fp).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(fps).size).toBe(fps.length);
    const again = render(ws).doc.runs[0].results.map((r: any) => r.partialFingerprints[FP]);
    expect(again).toEqual(fps);
  });

  it('partialFingerprints do not depend on where the checkout is', async () => {
    const moved: Workspace = {
      root: join(tmp, 'b', 'elsewhere entirely'),
      cwd: join(tmp, 'b', 'elsewhere entirely', 'repo'),
      paths: { ...ws.paths },
    };
    cpSync(ws.root, moved.root, { recursive: true });
    for (const k of Object.keys(ws.paths) as (keyof Workspace['paths'])[]) {
      moved.paths[k] = join(moved.root, ws.paths[k].slice(ws.root.length));
    }
    const first = doc.runs[0].results;
    const second = render(moved).doc.runs[0].results;
    expect(second).toHaveLength(first.length);
    // Files outside cwd too: they are named by their path from cwd (../elsewhere/...), as the baseline names them.
    expect(first.some((r: any) => !r.locations[0].physicalLocation.artifactLocation.uriBaseId)).toBe(true);
    first.forEach((r: any, i: number) => {
      expect(second[i].partialFingerprints).toEqual(r.partialFingerprints);
    });
  });

  it('an empty report is a valid log with no results', () => {
    const empty = JSON.parse(sarifReporter(makeReport([]), { cwd: ws.cwd, color: false, toolVersion: 'dev' }));
    expect(empty.runs[0].results).toEqual([]);
    expect(empty.runs[0].artifacts).toEqual([]);
    expect(empty.runs[0].tool.driver.version).toBe('dev');
    expect(empty.runs[0].tool.driver.semanticVersion).toBeUndefined();
  });
});

describe('SARIF notes: listed, not alerted on', () => {
  let tmp: string;
  let ws: Workspace;
  let doc: any;
  let findings: Finding[];
  let sarifPath: string;

  beforeAll(async () => {
    tmp = tempDir('sarif-notes');
    ws = await makeWorkspace(join(tmp, 'a'));
    let text: string;
    ({ doc, text, findings } = render(ws, checkAll(ws), false));
    sarifPath = join(tmp, 'notes.sarif');
    writeFileSync(sarifPath, text);
  }, 300_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('results are the errors and warnings, in order; the notes are tool notifications with rule and location', () => {
    const notes = findings.filter((f) => f.severity === 'note');
    expect(notes.length).toBeGreaterThan(0);
    const run = doc.runs[0];
    expect(run.results.map((r: any) => [r.ruleId, r.message.text])).toEqual(
      findings.filter((f) => f.severity !== 'note').map((f) => [f.rule, f.message]),
    );
    expect(run.results.some((r: any) => r.level === 'note')).toBe(false);
    const listed = run.invocations[0].toolExecutionNotifications;
    expect(listed.map((n: any) => [n.associatedRule.id, n.message.text, n.level])).toEqual(notes.map((f) => [f.rule, f.message, 'note']));
    for (const n of listed) {
      expect(RULES[n.associatedRule.index]!.meta.id).toBe(n.associatedRule.id);
      const artifact = n.locations[0].physicalLocation.artifactLocation;
      expect(run.artifacts[artifact.index].location.uri).toBe(artifact.uri);
      expect(n.locations[0].physicalLocation.region.startLine).toBe(1);
    }
  });

  it('passes the SARIF multitool validator, and its GitHub rules but for the file outside the checkout', () => {
    const plain = validate(sarifPath);
    expect(plain.results.filter((r) => r.level === 'error'), plain.stdout).toEqual([]);
    const gh = validate(sarifPath, ['--config', githubConfig(join(tmp, 'github.xml')), '--rule-kind', 'Sarif;Ghas']);
    expect(gh.results.filter((r) => r.level === 'error' && r.ruleId !== 'GH1006'), gh.stdout).toEqual([]);
  }, 120_000);

  it('a clean driver has no result at all, only its notes', () => {
    const clean = render(ws, [checkImage(ws.paths.clean)], false).doc.runs[0];
    expect(clean.results).toEqual([]);
    expect(clean.invocations[0].toolExecutionNotifications.map((n: any) => n.associatedRule.id)).toContain('affected-ddi-import');
  });
});
