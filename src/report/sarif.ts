import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, SourceLocation } from '../findings.js';
import { findingKey, fingerprint, imageId } from '../fingerprint.js';
import { hex } from '../pe/errors.js';
import { quietNote, RULES } from '../rules/index.js';
import type { RuleMeta } from '../rules/types.js';
import { pathInside } from './paths.js';
import { binaryPlace, placeableSource } from './source.js';
import type { Reporter } from './types.js';

/**
 * SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
 *
 * The analysed artifacts are PE images, so a result's location is a binary
 * region: `byteOffset`/`byteLength` of the header field or table entry at
 * fault. See `regionFor` for why a `startLine` is added as well.
 *
 * Notes are results only with `includeNotes`. Code scanning opens an alert for every
 * result, whatever its `level` or `kind` (microsoft/PSRule#955: `kind: "pass"` results
 * became alerts; GitHub community discussion 65477), and every clean driver has an
 * `affected-ddi-import` note. Otherwise they are listed as the invocation's
 * `toolExecutionNotifications` (SARIF 2.1.0 §3.20.21), with the rule and the location:
 * in the log for any reader, not alerts.
 */

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const INFORMATION_URI = 'https://github.com/hvci-build/hvci-build';
/** The uriBaseId relative artifact URIs are resolved against: the directory paths are shown relative to. */
export const SRCROOT = 'SRCROOT';
/** Key of hvci-build's own entry in `result.partialFingerprints`; bump the version if the inputs change. */
export const FINGERPRINT_KEY = 'hvciFinding/v2';
/** The finding's key inside its image, as a baseline file records it (`key`). */
export const LOCATION_KEY = 'hvciLocation/v1';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
  index?: number;
}

/** Where one input file is, for SARIF. */
interface ArtifactRef {
  location: { uri: string; uriBaseId?: string };
}

/** One result to emit: a finding of an image, with what the baseline and the suppressions said. */
interface Emitted {
  path: string;
  finding: Finding;
  /** The finding's key, when known without its arguments (a fixed finding of the baseline). */
  key?: string;
  baselineState?: 'new' | 'unchanged' | 'absent';
  justification?: string;
}

export const sarifReporter: Reporter = (report, options) => {
  const ruleIndex = new Map<string, number>(RULES.map((r, i) => [r.meta.id, i]));
  const artifacts: { location: ArtifactLocation; roles: string[] }[] = [];
  const artifactIndex = new Map<string, number>();
  const results: unknown[] = [];
  const notifications: unknown[] = [];
  const t = report.triage;
  // SARIF 2.1.0 (result.suppressions): the results of a run all have `suppressions` or none has.
  const suppressing = t?.suppressing === true;
  const withBaseline = t?.baseline !== undefined;
  const occurrences = new Map<string, number>();

  const locate = (path: string): { ref: ArtifactRef; index: number } => {
    const ref = artifactRef(path, options.cwd);
    let index = artifactIndex.get(ref.location.uri);
    if (index === undefined) {
      index = artifacts.length;
      artifactIndex.set(ref.location.uri, index);
      artifacts.push({ location: { ...ref.location }, roles: ['analysisTarget'] });
    }
    return { ref, index };
  };
  for (const file of report.files) locate(file.path);

  const emit = (e: Emitted, quiet: boolean): void => {
    const f = e.finding;
    const { ref, index } = locate(e.path);
    const idx = ruleIndex.get(f.rule);
    const binary = { physicalLocation: { artifactLocation: { ...ref.location, index }, region: regionFor(f) } };
    // With a source line from the PDB in the checkout, that is the primary location (code
    // scanning shows it in the pull request's diff) and the image's byte range a related one.
    // A source path of another machine is only related: it cannot be placed.
    const placed = placeableSource(f, options.cwd);
    const location = placed ? sourceLocation(placed, options.cwd) : binary;
    const relatedOne = placed
      ? { ...binary, message: { text: `in the image, ${binaryPlace(f)}` } }
      : f.source && { ...(sourceLocation(f.source, options.cwd) as object), message: { text: 'in the source' } };
    const related = relatedOne ? { relatedLocations: [{ id: 0, ...relatedOne }] } : {};
    if (quiet) {
      notifications.push({
        level: 'note',
        message: { text: f.message },
        locations: [location],
        ...related,
        associatedRule: { id: f.rule, ...(idx !== undefined ? { index: idx } : {}) },
        properties: {
          ...resultProperties(f),
          ...(e.baselineState ? { baselineState: e.baselineState } : {}),
          ...(e.justification !== undefined ? { justification: e.justification } : {}),
        },
      });
      return;
    }
    const key = e.key ?? findingKey(f);
    // The image as the baseline names it: relative to cwd, `../` outside it, the same in any checkout.
    const image = imageId(e.path, options.cwd);
    const occurrence = (occurrences.get(`${image}\0${key}`) ?? 0) + 1;
    occurrences.set(`${image}\0${key}`, occurrence);
    results.push({
      ruleId: f.rule,
      ...(idx !== undefined ? { ruleIndex: idx } : {}),
      level: f.severity,
      message: { text: f.message },
      locations: [location],
      ...related,
      partialFingerprints: fingerprints(image, key, occurrence),
      ...(withBaseline ? { baselineState: e.baselineState ?? 'new' } : {}),
      ...(suppressing ? { suppressions: e.justification !== undefined ? [{ kind: 'external', justification: e.justification }] : [] } : {}),
      properties: resultProperties(f),
    });
  };

  for (const file of report.files) {
    for (const f of file.findings) emit({ path: file.path, finding: f }, quietNote(f, options.includeNotes));
  }
  for (const u of t?.unchanged ?? []) emit({ path: u.path, finding: u.finding, baselineState: 'unchanged' }, quietNote(u.finding, options.includeNotes));
  for (const s of t?.suppressed ?? []) {
    const e: Emitted = { path: s.path, finding: s.finding, justification: s.justification, ...(s.baselineState ? { baselineState: s.baselineState } : {}) };
    emit(e, quietNote(s.finding, options.includeNotes));
  }
  // A fixed finding is a result only with includeNotes: code scanning ignores baselineState
  // and would open an alert for a problem that is gone. Otherwise it is a notification.
  for (const x of t?.fixed ?? []) {
    const finding: Finding = {
      rule: x.rule,
      severity: x.severity,
      message: x.message,
      ...(x.section !== undefined ? { section: x.section } : {}),
      args: x.function !== undefined ? { function: x.function } : {},
    };
    emit({ path: x.path, finding, key: x.key, baselineState: 'absent' }, !options.includeNotes);
  }
  // A suppression that matches nothing: a note on the config (§3.20.22), never an alert.
  const configNotes = (t?.unusedSuppressions ?? []).map((u) => {
    const { ref, index } = locate(u.file);
    artifacts[index]!.roles = ['userSpecifiedConfiguration'];
    return {
      level: 'note',
      message: { text: `${u.by} (${u.what}) matches no finding: remove it` },
      locations: [{ physicalLocation: { artifactLocation: { ...ref.location, index }, region: { startLine: 1 } } }],
      properties: { suppression: u.by, justification: u.justification },
    };
  });

  const driver = {
    name: 'hvci-build',
    informationUri: INFORMATION_URI,
    version: options.toolVersion,
    ...(SEMVER.test(options.toolVersion) ? { semanticVersion: options.toolVersion } : {}),
    rules: RULES.map((r) => reportingDescriptor(r.meta)),
  };

  const doc = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        // workingDirectory tells GitHub where the checkout is, so absolute file URIs
        // (files outside cwd) are accepted (multitool rule GH1006).
        invocations: [
          {
            executionSuccessful: true,
            workingDirectory: { uri: directoryUri(options.cwd) },
            ...(notifications.length > 0 ? { toolExecutionNotifications: notifications } : {}),
            ...(configNotes.length > 0 ? { toolConfigurationNotifications: configNotes } : {}),
          },
        ],
        originalUriBaseIds: {
          [SRCROOT]: { uri: directoryUri(options.cwd) },
        },
        artifacts,
        results,
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
  return JSON.stringify(doc, null, 2) + '\n';
};

export function reportingDescriptor(meta: RuleMeta): unknown {
  const reference = meta.reference && meta.reference !== '-' ? meta.reference : undefined;
  return {
    id: meta.id,
    name: meta.name,
    shortDescription: { text: meta.summary },
    fullDescription: { text: meta.explanation },
    help: {
      text: `${meta.explanation}\n\nHow to fix: ${meta.fix}` + (reference ? `\n\nReference: ${reference}` : ''),
      markdown:
        `${meta.explanation}\n\n**How to fix:** ${meta.fix}` + (reference ? `\n\n**Reference:** ${reference}` : ''),
    },
    defaultConfiguration: { level: meta.defaultSeverity },
    properties: {
      'security-severity': String(meta.securitySeverity),
      tags: ['security', 'hvci'],
      precision: 'very-high',
    },
  };
}

/**
 * The region of a finding.
 *
 * A PE image is a binary artifact, and the SARIF way to point into one is
 * `byteOffset`/`byteLength` (SARIF 2.1.0 §3.30.1), which we give whenever the
 * finding knows the file range of the field at fault.
 *
 * GitHub code scanning, however, locates alerts by line only: its "SARIF
 * support for code scanning" page marks `region.startLine` as required in a
 * `physicalLocation`, a codeql-action maintainer states that code scanning
 * only supports character offsets and line/column positions
 * (github/codeql-action#754), the SARIF multitool's GitHub rule GH1003
 * (ProvideRequiredRegionProperties) reports a region without `startLine` as an
 * error, and OpenSSF Scorecard adds `startLine` next to `byteOffset` for binary
 * files for the same reason (ossf/scorecard#1458). So every region also
 * carries `startLine: 1`: GitHub shows the alert at the top of the file, and
 * byte-aware consumers still get the exact range. A finding without a file
 * range (e.g. an unreadable file) is about the whole file: `{ startLine: 1 }`
 * alone, rather than a zero-length binary region at offset 0.
 *
 * github/codeql-action's upload-sarif would compute a `primaryLocationLineHash`
 * from the file's text at startLine; for a binary that is the same for every
 * finding in the file, and GitHub tracks alerts by it, so six straddling
 * relocations could become one alert. We set it ourselves (see fingerprints).
 */
function regionFor(f: Finding): Record<string, number> {
  const region: Record<string, number> = { startLine: 1 };
  if (f.offset !== undefined && f.offset >= 0) {
    region.byteOffset = f.offset;
    if (f.length !== undefined && f.length > 0) region.byteLength = f.length;
  }
  return region;
}

/** The source file and line of a finding, relative to SRCROOT when the file lies under cwd. */
function sourceLocation(src: SourceLocation, cwd: string): unknown {
  const region = { startLine: src.line, ...(src.column !== undefined ? { startColumn: src.column } : {}) };
  return { physicalLocation: { artifactLocation: artifactRef(src.file, cwd).location, region } };
}

function resultProperties(f: Finding): Record<string, unknown> {
  return {
    ...(f.section !== undefined ? { section: f.section } : {}),
    ...(f.rva !== undefined ? { rva: hex(f.rva) } : {}),
    args: f.args,
  };
}

export function artifactRef(path: string, cwd: string): ArtifactRef {
  const rel = pathInside(path, cwd);
  if (rel === undefined) {
    // Outside cwd (or cwd itself): an absolute file URI, with no uriBaseId.
    const abs = resolve(cwd, path);
    return { location: { uri: pathToFileURL(abs).href } };
  }
  const segments = rel.split('/');
  return { location: { uri: segments.map(encodeSegment).join('/'), uriBaseId: SRCROOT } };
}

/** Percent-encodes one path segment for a relative URI reference (RFC 3986 pchar). */
function encodeSegment(s: string): string {
  // encodeURIComponent leaves only unreserved characters and !'()* unencoded,
  // and encodes ':' so a first segment like 'c:x' cannot read as a scheme.
  return encodeURIComponent(s);
}

function directoryUri(dir: string): string {
  const href = pathToFileURL(resolve(dir)).href;
  return href.endsWith('/') ? href : href + '/';
}

/**
 * Our fingerprint (../fingerprint.ts: the image's path relative to cwd, what the finding is
 * about in it, and which occurrence of that it is), the image-relative key that baselines
 * record, and `primaryLocationLineHash` in CodeQL's "hash:occurrence" form: GitHub tracks
 * alerts by it with the file's path and the rule, and one it computed from a binary's first
 * "line" would merge distinct findings. None holds an RVA, so a rebuild keeps the alerts.
 */
function fingerprints(image: string, key: string, occurrence: number): Record<string, string> {
  return {
    [FINGERPRINT_KEY]: fingerprint(image, key, occurrence),
    [LOCATION_KEY]: key,
    primaryLocationLineHash: `${key.slice(0, 16)}:${occurrence}`,
  };
}
