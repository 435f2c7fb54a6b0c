import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'vitest';

/*
 * The SARIF validator is the SARIF SDK's multitool (npm @microsoft/sarif-multitool,
 * a self-contained .NET binary per platform). `sarif-multitool validate <in> -o <out>`
 * exits 0 whether or not the log is valid; it exits non-zero only when it could not
 * run (missing input, existing output without `--log ForceOverwrite`, bad options).
 * Problems are the results of the output SARIF log: level "error" (schema errors
 * JSON1xxx, spec rules SARIF1xxx, GitHub rules GH1xxx when enabled), "warning" and,
 * with `--level "Error;Warning;Note"`, "note". The same lines go to stdout as
 * `file(line,col): error RULE: text`.
 *
 * The package's bin.js runs the binary through a shell, which splits arguments on
 * `;` and spaces, so the binary is spawned directly.
 */
const require = createRequire(import.meta.url);

function multitool(): string {
  const bin = require('@microsoft/sarif-multitool') as string;
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    // npm may skip the package's postinstall (which only does chmod u+x): do it here.
    chmodSync(bin, 0o755);
  }
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `${bin} is not executable: its package's postinstall (chmod u+x) did not run; ` +
        'run `npm rebuild @microsoft/sarif-multitool-linux` (or -darwin).',
    );
  }
  return bin;
}

interface ValidationResult {
  level: string;
  ruleId: string;
  text: string;
}

export function validate(sarifPath: string, extraArgs: string[] = []): { results: ValidationResult[]; stdout: string } {
  const out = sarifPath.replace(/\.sarif$/, '') + '.validation.sarif';
  const r = spawnSync(multitool(), ['validate', sarifPath, '-o', out, '--log', 'ForceOverwrite', ...extraArgs], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.error).toBeUndefined();
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const log = JSON.parse(readFileSync(out, 'utf8'));
  const results = (log.runs?.[0]?.results ?? []).map((x: any) => ({
    level: x.level ?? 'warning',
    ruleId: x.ruleId,
    text: x.message?.text ?? (x.message?.arguments ?? []).join(' | '),
  }));
  return { results, stdout: r.stdout };
}

/** Turns on the multitool's GitHub code scanning rules (disabled by default), as errors. */
const GITHUB_RULES = [
  'GH1001.ProvideRequiredLocationProperties',
  'GH1002.InlineThreadFlowLocations',
  'GH1003.ProvideRequiredRegionProperties',
  'GH1004.ReviewArraysThatExceedConfigurableDefaults',
  'GH1005.LocationsMustBeRelativeUrisOrFilePaths',
  'GH1006.ProvideCheckoutPath',
  'GH1007.ProvideFullyFormattedMessageStrings',
  'GH1011.GhasReferenceFinalSchema',
  'GH1013.GhProvideRequiredSarifLogProperties',
  'GH1014.GhasProvideRequiredRunProperties',
  'GH1015.GhasProvideRequiredResultProperties',
  'GH1016.GhasProvideRequiredLocationProperties',
  'GH1017.GhasProvideRequiredPhysicalLocationProperties',
  'GH1018.GhasProvideToolDriver',
  'GH2012.GhasProvideRequiredReportingDescriptorProperties',
];

export function githubConfig(path: string): string {
  const entries = GITHUB_RULES.map(
    (k) => `  <Properties Key="${k}.Options"><Property Key="RuleEnabled" Value="Error" Type="Driver.RuleEnabledState" /></Properties>`,
  );
  writeFileSync(path, ['<?xml version="1.0" encoding="utf-8"?>', '<Properties>', ...entries, '</Properties>', ''].join('\n'));
  return path;
}

