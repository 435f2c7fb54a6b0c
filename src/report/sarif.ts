import { createRequire } from 'node:module';
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ArgValue, Finding } from '../findings.js';
import { hex } from '../pe/errors.js';
import { quietNote, RULES } from '../rules/index.js';
import type { RuleMeta } from '../rules/types.js';
import { pathInside } from './paths.js';
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
export const FINGERPRINT_KEY = 'hvciFinding/v1';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
  index?: number;
}

/** Where one input file is, for SARIF, and the stable relative path used for fingerprints. */
interface ArtifactRef {
  location: { uri: string; uriBaseId?: string };
  /** Path relative to cwd with '/' separators, or the absolute path when outside cwd. */
  key: string;
}

export const sarifReporter: Reporter = (report, options) => {
  const ruleIndex = new Map<string, number>(RULES.map((r, i) => [r.meta.id, i]));
  const artifacts: { location: ArtifactLocation; roles: string[] }[] = [];
  const artifactIndex = new Map<string, number>();
  const results: unknown[] = [];
  const notifications: unknown[] = [];

  for (const file of report.files) {
    const ref = artifactRef(file.path, options.cwd);
    let index = artifactIndex.get(ref.location.uri);
    if (index === undefined) {
      index = artifacts.length;
      artifactIndex.set(ref.location.uri, index);
      artifacts.push({ location: { ...ref.location }, roles: ['analysisTarget'] });
    }
    for (const f of file.findings) {
      const idx = ruleIndex.get(f.rule);
      const location = { physicalLocation: { artifactLocation: { ...ref.location, index }, region: regionFor(f) } };
      if (quietNote(f, options.includeNotes)) {
        notifications.push({
          level: 'note',
          message: { text: f.message },
          locations: [location],
          associatedRule: { id: f.rule, ...(idx !== undefined ? { index: idx } : {}) },
          properties: resultProperties(f),
        });
        continue;
      }
      results.push({
        ruleId: f.rule,
        ...(idx !== undefined ? { ruleIndex: idx } : {}),
        level: f.severity,
        message: { text: f.message },
        locations: [location],
        partialFingerprints: lineHashed(fingerprint(f, ref.key, file.path, options.cwd)),
        properties: resultProperties(f),
      });
    }
  }

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

function reportingDescriptor(meta: RuleMeta): unknown {
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
 * relocations could become one alert. We set it ourselves (see lineHashed).
 */
function regionFor(f: Finding): Record<string, number> {
  const region: Record<string, number> = { startLine: 1 };
  if (f.offset !== undefined && f.offset >= 0) {
    region.byteOffset = f.offset;
    if (f.length !== undefined && f.length > 0) region.byteLength = f.length;
  }
  return region;
}

function resultProperties(f: Finding): Record<string, unknown> {
  return {
    ...(f.section !== undefined ? { section: f.section } : {}),
    ...(f.rva !== undefined ? { rva: hex(f.rva) } : {}),
    args: f.args,
  };
}

/**
 * A key that identifies a finding across runs and machines: the rule, the
 * file's path relative to cwd (never an absolute path when inside cwd), the
 * section, the RVA and the arguments (keys sorted, any absolute path of the
 * file or of cwd in a string argument replaced by its relative form), hashed
 * with SHA-256 and cut to 32 hex digits.
 */
function fingerprint(f: Finding, relPath: string, rawPath: string, cwd: string): string {
  const absPath = resolve(cwd, rawPath);
  const scrub = (s: string): string => s.split(absPath).join(relPath).split(resolve(cwd)).join('.');
  const args = Object.keys(f.args)
    .sort()
    .map((k): [string, ArgValue] => {
      const v = f.args[k]!;
      if (typeof v === 'string') return [k, scrub(v)];
      if (Array.isArray(v)) return [k, v.map(scrub)];
      return [k, v];
    });
  const input = [f.rule, relPath, f.section ?? '', f.rva !== undefined ? hex(f.rva) : '', JSON.stringify(args)].join('|');
  return sha256(input).slice(0, 32);
}

export function artifactRef(path: string, cwd: string): ArtifactRef {
  const rel = pathInside(path, cwd);
  if (rel === undefined) {
    // Outside cwd (or cwd itself): an absolute file URI, with no uriBaseId.
    const abs = resolve(cwd, path);
    return { location: { uri: pathToFileURL(abs).href }, key: abs.split(sep).join('/') };
  }
  const segments = rel.split('/');
  return {
    location: { uri: segments.map(encodeSegment).join('/'), uriBaseId: SRCROOT },
    key: segments.join('/'),
  };
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


// node:crypto takes ~5 ms to load; the CLI bundle holds this reporter, so load
// it only when a SARIF report is written.
export function sha256(text: string): string {
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Our fingerprint, and the same value as `primaryLocationLineHash` (in CodeQL's
 * "hash:occurrence" form): GitHub tracks alerts by that key, and one computed
 * from a binary's first "line" would merge distinct findings.
 */
export function lineHashed(fp: string): Record<string, string> {
  return { [FINGERPRINT_KEY]: fp, primaryLocationLineHash: `${fp.slice(0, 16)}:1` };
}
