/**
 * Runs one of the CLI's bundles (dist/bundle/*.cjs) with its compiled code cached. On Node
 * 22 and later that is Node's own module.enableCompileCache(), and the bundle is required
 * as any module. Node 20 has none, so there it runs through a V8 code cache of our own. Without it every run parses and
 * compiles again each function it calls: 6 ms of a 55 ms check of a 25 MB driver, and
 * 13 ms more when the call-site analysis runs (measured with `npm run bench`).
 *
 * The cache is V8's data for the bundle after a run, so it holds the functions that run
 * called: one per bundle and profile (the command, and whether call sites are analysed).
 * V8 accepts data for any source of the same length, so the file's name also carries the
 * bundle's size, times and inode, which change whenever it is rewritten; and V8 aborts
 * the process on damaged data, which ../cache-files.ts refuses by its CRC first. It is
 * written once, when the process exits (HVCI_NO_CODE_CACHE=1: never), and replaces the
 * caches of older builds of that bundle and profile.
 *
 * The entry points (../bin/, built to dist/bin/) are CommonJS, like this module and the
 * bundles: an ES module entry makes Node build a namespace for each built-in module it
 * imports, which for node:fs loads all of its streams (2.5 ms).
 */
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { cacheDirectory, cachingEnabled, readCache, shortHash, writeCache } from '../cache-files.js';
import { IMPORT_HOOK } from '../import-module.js';
import { EXIT } from './errors.js';

type Entry = { run(argv: string[]): Promise<void> };

/**
 * Runs `run(argv)` of dist/bundle/`name`.cjs for `command`. `importer` is import() from an
 * entry point, which the bundle's dynamic imports go through (../import-module.ts says why).
 */
export async function runBundle(name: string, command: string, argv: string[], importer: (specifier: string) => Promise<unknown>): Promise<void> {
  try {
    // Built into dist/bin/, next to dist/bundle/.
    const file = fileURLToPath(new URL(`../bundle/${name}.cjs`, import.meta.url));
    const nodeModule = createRequire(file)('node:module') as { enableCompileCache?: (dir?: string) => unknown };
    if (typeof nodeModule.enableCompileCache === 'function') {
      const dir = cachingEnabled() ? cacheDirectory('node-compile-cache', join(dirname(file), '..', '..')) : undefined;
      if (dir) nodeModule.enableCompileCache(dir);
      await (createRequire(file)(file) as Entry).run(argv);
      return;
    }
    // Node 20: a script compiled by vm cannot import() without a loader, so it gets the entry point's.
    (globalThis as { [IMPORT_HOOK]?: typeof importer })[IMPORT_HOOK] = importer;
    const headersOnly = argv.includes('--no-callsites') || process.env.HVCI_CALLSITES === '0';
    const entry = loadCached(file, `${command}${headersOnly ? '-headers' : ''}`, new Map()) as Entry;
    await entry.run(argv);
  } catch (err) {
    // The bundle turns its own errors into one line; this is for a broken install.
    process.stderr.write(`hvci-build: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.internal;
  }
}

const MAGIC = 'HVCIV8C1';

/**
 * Node 20: runs a bundle through the code cache, and the bundles it requires too (a layer
 * requires the layers it shares code with, ../tools/bundle.mjs), each once. A module
 * Node's own require loaded already (this launcher) stays that instance.
 */
function loadCached(file: string, profile: string, loaded: Map<string, unknown>): unknown {
  const done = loaded.get(file);
  if (done) return done;
  const script = compile(file, readFileSync(file, 'utf8'), `${basename(file, '.cjs')}-${profile}`);
  const nodeRequire = createRequire(file);
  const require = ((id: string) => {
    // A sibling bundle ('./x.cjs'), found without Node's resolution (which reads package.json files).
    const target = id.startsWith('./') && id.endsWith('.cjs') && !id.includes('/', 2) ? join(dirname(file), id.slice(2)) : undefined;
    if (!target) return nodeRequire(id);
    // This launcher, already loaded by Node's require: that instance.
    return nodeRequire.cache[target]?.exports ?? loadCached(target, profile, loaded);
  }) as NodeJS.Require;
  Object.assign(require, nodeRequire);
  const module = { exports: {} };
  loaded.set(file, module.exports);
  const wrapper = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  wrapper.call(module.exports, module.exports, require, module, file, dirname(file));
  loaded.set(file, module.exports);
  return module.exports;
}

function compile(file: string, source: string, profile: string): Script {
  // The same wrapper as Node's for CommonJS, so the bundle sees what a required file would.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  if (!cachingEnabled()) return new Script(wrapped, { filename: file });
  const st = statSync(file, { bigint: true });
  const id = [st.size, st.mtimeNs, st.ctimeNs, st.ino].map((n) => n.toString(36)).join('-');
  // The bundle's path too: checkouts sharing HVCI_CACHE_DIR keep one cache each.
  const prefix = `${profile}-${shortHash(file)}-`;
  const name = `${prefix}${id}-node${process.versions.node}-${process.arch}.v8cache`;
  const root = join(dirname(file), '..', '..');
  const cachedData = readCache(name, root, MAGIC);
  const script = new Script(wrapped, { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        const written = writeCache(name, root, MAGIC, script.createCachedData());
        if (written) removeOlder(written, prefix);
      } catch {
        // no cache this time
      }
    });
  }
  return script;
}

/** Removes the caches of other builds of this bundle and profile, beside the one just written. */
function removeOlder(written: string, prefix: string): void {
  const dir = dirname(written);
  for (const f of readdirSync(dir)) {
    if (f.startsWith(prefix) && f !== basename(written) && /^([0-9a-z]+-){4}node[^-]+-[^-]+\.v8cache$/.test(f.slice(prefix.length))) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        // another process's, or gone already
      }
    }
  }
}
