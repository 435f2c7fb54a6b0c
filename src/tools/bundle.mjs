// npm run bundle: the published code, each module once.
//
// The CLI runs from CommonJS bundles (../cli/bundle-cache.ts says why: V8's code cache on
// Node 20, no ES module namespaces at start-up). Bundled separately, every bundle would
// repeat the engine, the rules and the PE reader. So the bundles are layers: a module
// belongs to the first layer that reaches it, and a later layer that imports it gets
// `require('./<owner>.cjs').__modules[<key>]` instead of a copy. Only the modules a later
// layer imports are listed in `__modules`, so an owner pays for no other namespace.
//
// The order puts the check commands' code in one file (check-main.cjs), so `check` loads
// one bundle as before; `link` and the other wrappers load wrap-main.cjs on top of it.
import * as esbuild from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = (p) => resolve(root, 'src', p);

/** In load order: each layer may use the layers above it. */
const LAYERS = [
  // What the entry points run before any bundle: the code cache's loader.
  { name: 'launch', entry: src('cli/bundle-cache.ts'), outdir: 'dist/bundle' },
  { name: 'check-main', entry: src('cli/check-main.ts'), outdir: 'dist/bundle' },
  { name: 'wrap-main', entry: src('cli/wrap-main.ts'), outdir: 'dist/bundle' },
  // The library's entry (package.json "exports"): its names, from the layers that own them.
  { name: 'index', entry: src('index.ts'), outdir: 'dist/bundle' },
  // ES module: check-files.ts starts it as './check-worker.js' beside itself.
  { name: 'check-worker', entry: src('check-worker.ts'), outdir: 'dist/bundle', esm: true },
  { name: 'hvci-build', entry: src('bin/hvci-build.ts'), outdir: 'dist/bin' },
  { name: 'hvci-clang-cl', entry: src('bin/hvci-clang-cl.ts'), outdir: 'dist/bin' },
  { name: 'hvci-lld-link', entry: src('bin/hvci-lld-link.ts'), outdir: 'dist/bin' },
];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: root,
  // import.meta.url is the bundle's own file: paths such as ../../templates hold from dist/bundle.
  define: { 'import.meta.url': '__import_meta_url' },
};
const cjsBanner = "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;";
const esmBanner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url); const __import_meta_url = import.meta.url;";

const key = (file) => relative(src('.'), file).replaceAll('\\', '/');
const outFile = (layer) => resolve(root, layer.outdir, `${layer.name}${layer.esm ? '.js' : '.cjs'}`);

/** Pass 1: which source files each layer reaches, and which file imports which. */
async function graph(layer) {
  const result = await esbuild.build({ ...common, entryPoints: [layer.entry], write: false, metafile: true, format: 'cjs', outfile: '/dev/null' });
  const imports = new Map();
  for (const [path, input] of Object.entries(result.metafile.inputs)) {
    const file = resolve(root, path);
    if (!file.startsWith(src('.'))) throw new Error(`bundle: ${path} is outside src/ (is it a package that should be external?)`);
    imports.set(file, input.imports.filter((i) => !i.external).map((i) => resolve(root, i.path)));
  }
  return imports;
}

const graphs = await Promise.all(LAYERS.map(graph));
const owner = new Map();
LAYERS.forEach((layer, i) => {
  for (const file of graphs[i].keys()) if (!owner.has(file)) owner.set(file, layer);
});
/** For each owner, the modules that other layers import from it. */
const exported = new Map(LAYERS.map((l) => [l, new Set()]));
LAYERS.forEach((layer, i) => {
  for (const [file, deps] of graphs[i]) {
    if (owner.get(file) !== layer) continue;
    for (const dep of deps) if (owner.get(dep) !== layer) exported.get(owner.get(dep)).add(dep);
  }
});

/** Imports of another layer's modules become a reference to that layer's bundle. */
const shareLayers = (layer) => ({
  name: 'share-layers',
  setup(build) {
    build.onResolve({ filter: /\.c?js$/, namespace: 'layer' }, ({ path }) => ({ path, external: true }));
    build.onResolve({ filter: /^\.\.?\// }, ({ path, resolveDir }) => {
      const file = resolve(resolveDir, path.replace(/\.js$/, '.ts'));
      const other = owner.get(file);
      if (!other || other === layer) return undefined;
      return { path: key(file), namespace: 'layer', pluginData: other };
    });
    build.onLoad({ filter: /.*/, namespace: 'layer' }, ({ path, pluginData: other }) => {
      const from = relative(dirname(outFile(layer)), outFile(other)).replaceAll('\\', '/');
      const spec = from.startsWith('.') ? from : `./${from}`;
      return { contents: `module.exports = require(${JSON.stringify(spec)}).__modules[${JSON.stringify(path)}];`, loader: 'js' };
    });
  },
});

/** The layer's entry, plus `__modules`: the namespaces later layers import. */
function entryOf(layer) {
  const shared = [...exported.get(layer)].sort();
  if (shared.length === 0) return { entryPoints: [layer.entry] };
  const lines = [`export * from ${JSON.stringify(layer.entry)};`];
  shared.forEach((file, i) => lines.push(`import * as m${i} from ${JSON.stringify(file)};`));
  lines.push(`export const __modules = { ${shared.map((file, i) => `${JSON.stringify(key(file))}: m${i}`).join(', ')} };`);
  return { stdin: { contents: lines.join('\n'), resolveDir: dirname(layer.entry), sourcefile: `${layer.name}-entry.ts`, loader: 'ts' } };
}

for (const dir of ['dist/bundle', 'dist/bin']) rmSync(resolve(root, dir), { recursive: true, force: true });
await Promise.all(
  LAYERS.map((layer) =>
    esbuild.build({
      ...common,
      ...entryOf(layer),
      outfile: outFile(layer),
      format: layer.esm ? 'esm' : 'cjs',
      banner: { js: layer.esm ? esmBanner : cjsBanner },
      plugins: [shareLayers(layer)],
    }),
  ),
);
