import { availableParallelism } from 'node:os';
import { checkImage, formatMessage, type CheckOptions } from './check-image.js';
import type { ArgValue, FileResult, Finding } from './findings.js';
import { discoverFiles, type DiscoveredFile } from './files/discover.js';
import { readRegularFile } from './files/regular-file.js';
import { RULES_BY_ID } from './rules/index.js';
import { finalSeverity } from './severity.js';
import { makeReport } from './report/summary.js';
import type { CheckReport } from './report/types.js';
import { importModule } from './import-module.js';

export interface CheckFilesOptions extends CheckOptions {
  /** Directory that relative inputs are resolved against (default: process.cwd()). */
  cwd?: string;
  /** Globs skipped when searching directories and expanding globs. */
  ignore?: readonly string[];
  /** Directory the ignore globs are relative to (default: cwd). */
  ignoreBase?: string;
  /** Worker threads to use; 1 checks in this thread. Default: all cores for large batches. */
  jobs?: number;
  /** Called as files are done, for progress display. */
  onProgress?: (done: number, total: number) => void;
}

// A small image takes about 0.1 ms to check and a worker about 40 ms to start,
// so workers pay off only for large batches (measured: 1,000 small drivers
// took 266 ms in one thread and 360 ms with two workers).
const WORKER_THRESHOLD = 2000;
const BATCH = 64;

/** Checks files, directories (searched for PE images) and globs; returns findings as data. */
export async function checkFiles(inputs: readonly string[], options: CheckFilesOptions = {}): Promise<CheckReport> {
  const cwd = options.cwd ?? process.cwd();
  const { files: found, empty, rejected } = await discoverFiles(inputs, {
    cwd,
    ignore: options.ignore ?? [],
    ignoreBase: options.ignoreBase ?? cwd,
  });
  const search = { empty, rejected };
  const checkOptions: CheckOptions = {
    ...(options.rules ? { rules: options.rules } : {}),
    ...(options.strict !== undefined ? { strict: options.strict } : {}),
    ...(options.minWindowsBuild !== undefined ? { minWindowsBuild: options.minWindowsBuild } : {}),
    ...(options.callsites !== undefined ? { callsites: options.callsites } : {}),
    ...(options.decoder !== undefined ? { decoder: options.decoder } : {}),
    ...(options.pathMap !== undefined ? { pathMap: options.pathMap } : {}),
  };
  // Entries a search could not read, or could only name by their bytes, are done
  // here; the rest, plain paths, go to checkImage in this thread or the workers.
  const special = found.filter((f) => f.problem !== undefined || f.raw !== undefined);
  const paths = found.filter((f) => f.problem === undefined && f.raw === undefined).map((f) => f.path);
  const jobs = Math.max(1, Math.min(options.jobs ?? availableParallelism(), Math.ceil(paths.length / BATCH)));
  const useWorkers = jobs > 1 && (options.jobs !== undefined ? options.jobs > 1 : paths.length >= WORKER_THRESHOLD);
  const results = useWorkers
    ? await checkInWorkers(paths, checkOptions, jobs, options.onProgress)
    : checkHere(paths, checkOptions, options.onProgress);
  if (special.length === 0) return makeReport(results, search);
  const byPath = new Map<string, FileResult>(results.map((r) => [r.path, r]));
  for (const f of special) byPath.set(f.path, checkSpecial(f, checkOptions));
  return makeReport(found.map((f) => byPath.get(f.path)!), search);
}

/**
 * An entry a search found but could not read (one `unreadable` finding), or a
 * file whose name is not valid UTF-8: read by its bytes and checked as a buffer,
 * shown under its escaped name, with a note that no PDB or map was looked for.
 */
function checkSpecial(f: DiscoveredFile, options: CheckOptions): FileResult {
  if (f.problem !== undefined) return { path: f.path, findings: engineFindings('unreadable', { reason: f.problem }, options) };
  const bytes = readRegularFile(f.raw!, MAX_RAW_NAMED);
  if (!bytes) return { path: f.path, findings: engineFindings('unreadable', { reason: 'not a regular file of at most 2 GiB' }, options) };
  const result = checkImage(bytes, options, f.path);
  result.findings.push(...engineFindings('skipped-check', {}, options, 'name-not-utf8'));
  return result;
}

// Files named only by their bytes are read whole; PE images are smaller than this.
const MAX_RAW_NAMED = 2 ** 31;

/** A finding the search itself reports, with the run's severity policy; none when the rule is off. */
function engineFindings(rule: string, args: Record<string, ArgValue>, options: CheckOptions, messageId?: string): Finding[] {
  const meta = RULES_BY_ID.get(rule)!.meta;
  const severity = finalSeverity({ overrides: options.rules ?? {}, strict: options.strict ?? false }, rule, meta.defaultSeverity);
  const template = (messageId !== undefined ? meta.messages?.[messageId] : undefined) ?? meta.message;
  return severity === 'off' ? [] : [{ rule, severity, message: formatMessage(template, args), args }];
}

function checkHere(paths: string[], options: CheckOptions, onProgress?: (done: number, total: number) => void): FileResult[] {
  return paths.map((p, i) => {
    const r = checkImage(p, options);
    onProgress?.(i + 1, paths.length);
    return r;
  });
}

async function checkInWorkers(
  paths: string[],
  options: CheckOptions,
  jobs: number,
  onProgress?: (done: number, total: number) => void,
): Promise<FileResult[]> {
  const { Worker } = await importModule<typeof import('node:worker_threads')>('node:worker_threads');
  const results: FileResult[] = new Array(paths.length);
  let next = 0;
  let done = 0;
  const workerUrl = new URL('./check-worker.js', import.meta.url);
  // A decoder provider is not cloneable: a worker makes its own of the same kind.
  const { decoder, ...plain } = options;
  const caching = decoder?.caching === true;
  // This thread takes batches too, so `jobs` threads are busy, not jobs + 1.
  const here = async (): Promise<void> => {
    while (next < paths.length) {
      const id = next;
      next = Math.min(paths.length, next + BATCH);
      for (let k = id; k < next; k++) results[k] = checkImage(paths[k]!, options);
      done += next - id;
      onProgress?.(done, paths.length);
      // Let the workers' messages in between batches.
      await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all([
    here(),
    ...Array.from({ length: jobs - 1 }, () => {
      const worker = new Worker(workerUrl);
      return new Promise<void>((resolvePromise, reject) => {
        const send = (): void => {
          if (next >= paths.length) {
            void worker.terminate().then(() => resolvePromise());
            return;
          }
          const id = next;
          next = Math.min(paths.length, next + BATCH);
          worker.postMessage({ id, paths: paths.slice(id, next), options: plain, caching });
        };
        worker.on('message', (msg: { id: number; results: FileResult[] }) => {
          msg.results.forEach((r, k) => (results[msg.id + k] = r));
          done += msg.results.length;
          onProgress?.(done, paths.length);
          send();
        });
        worker.on('error', reject);
        send();
      });
    }),
  ]);
  return results;
}
