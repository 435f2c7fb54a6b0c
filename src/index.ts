/** hvci-build's library API: findings as data, no printing. */
export { checkImage, formatMessage, InternalCheckError, type CheckOptions } from './check-image.js';
export { glueDecoder, snapshotDecoder, type DecoderProvider } from './callsites/iced.js';
export { checkFiles, type CheckFilesOptions } from './check-files.js';
export type { Finding, FileResult, Severity, SeveritySetting, ArgValue } from './findings.js';
export { RULES, RULES_BY_ID, type Rule, type RuleMeta } from './rules/index.js';
export { loadConfig, findConfigFile } from './config/load-config.js';
export { defineConfig } from './config/define-config.js';
export { ConfigError, type HvciConfig, type ResolvedConfig } from './config/schema.js';
export { parseWindowsVersion } from './windows-version.js';
export { makeReport, exitCodeFor } from './report/summary.js';
export { loadReporter, FORMATS, type Format } from './report/index.js';
export type { CheckReport, SearchOutcome, Summary, ReportOptions, Reporter, Triage } from './report/types.js';
export { triage, type TriageOptions } from './baseline/triage.js';
export { makeBaseline, parseBaseline, serializeBaseline, BaselineError, type Baseline, type BaselineEntry } from './baseline/baseline-file.js';
export type { Suppression } from './config/schema.js';
export { parseImage, type PeImage } from './pe/image.js';
export { bufferSource, fileSource } from './pe/source.js';
