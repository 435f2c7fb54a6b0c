import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import type { ArgValue, Finding } from './findings.js';
import { sha256 } from './sha256.js';

/**
 * A finding's identity across rebuilds, for baselines (src/baseline/) and SARIF
 * partialFingerprints (src/report/sarif.ts).
 *
 * The key is what the finding is about inside its image: the rule, the section, the function
 * and the arguments, minus those that are addresses or say how the code was compiled. An RVA
 * moves whenever code or data is added before it, so a key with one would call every finding
 * of a rebuilt driver new. Findings with the same key in one image (six straddling DIR64
 * relocations of .data) are told apart by their count, not by where they are.
 *
 * The image is named by its path relative to a root (the baseline file's directory, or the
 * report's cwd): stable across checkouts, machines and the directory a run starts in.
 */

/** Arguments that are addresses or offsets (they move on a rebuild) or the shape of a call (it changes with /O1 or /Od). */
const VOLATILE_ARGS: ReadonlySet<string> = new Set(['rva', 'site', 'start', 'end', 'entryPoint', 'pageOffset', 'call', 'via']);

/** The section a finding is about: its own, or the one its arguments name. */
export function sectionOf(f: Finding): string | undefined {
  if (f.section !== undefined) return f.section;
  return typeof f.args.section === 'string' ? f.args.section : undefined;
}

/** The function a call-site finding is in, when the image's symbols named it. */
export function functionOf(f: Finding): string | undefined {
  return typeof f.args.function === 'string' ? f.args.function : undefined;
}

/** 32 hex digits naming what a finding is about inside its image. */
export function findingKey(f: Finding): string {
  const args = Object.keys(f.args)
    .filter((k) => !VOLATILE_ARGS.has(k))
    .sort()
    .map((k): [string, ArgValue] => [k, f.args[k]!]);
  return sha256([JSON.stringify([f.rule, sectionOf(f) ?? '', functionOf(f) ?? '', args])]).slice(0, 32);
}

/**
 * The image's path relative to root, '/'-separated, with '..' when it is outside root (a
 * baseline in ci/ names ../build/drv.sys): the same in every checkout. An image on another
 * drive keeps its absolute path.
 */
export function imageId(path: string, root: string): string {
  const abs = resolve(root, path);
  const rel = relative(resolve(root), abs);
  return (rel === '' || isAbsolute(rel) ? abs : rel).split(sep).join('/');
}

/** The last segment of an image id: what still matches when the output directory moves. */
export function imageName(id: string): string {
  return basename(id);
}

/** The fingerprint of the n-th (1-based) finding with this key in the image. */
export function fingerprint(image: string, key: string, occurrence: number): string {
  return sha256([image, key, String(occurrence)]).slice(0, 32);
}
