// npm run bundle: the published code, each module once.
//
// The CLI runs from CommonJS bundles (../cli/bundle-cache.ts says why: V8's code cache on
// Node 20, no ES module namespaces at start-up). Bundled separately, every bundle would
// repeat the engine, the rules and the PE reader. So the bundles are layers in a tree: a
// module belongs to the nearest layer above every layer that uses it, and a layer that
// imports a module of a layer above gets `require('./<owner>.cjs').__modules[<key>]`
// instead of a copy. Only the modules other layers import are listed in `__modules`.
//
// check-main.cjs holds the engine, the rules, the reporters and the check commands, so
// `check` loads one bundle as before; `link` loads wrap-main.cjs on top of it, and the
// library's entry (index.cjs) takes its names from it.
import * as esbuild from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = (p) => resolve(root, 'src', p);

// What the entry points run before any bundle: the code cache's loader.
const launch = { name: 'launch', entry: src('cli/bundle-cache.ts'), outdir: 'dist/bundle' };
// The engine, the rules, the reporters and the check commands: `check` loads this one bundle.
const core = { name: 'check-main', entry: src('cli/check-main.ts'), outdir: 'dist/bundle', parent: launch };
/** Each layer may use the layers above it (parent, its parent...). */
const LAYERS = [
  launch,
  core,
  // The wrappers, on top of the engine (a layer more costs a `check` about 9 million
  // instructions, 5%, measured with callgrind: so the check commands stay in the core).
  { name: 'wrap-main', entry: src('cli/wrap-main.ts'), outdir: 'dist/bundle', parent: core },
  // The library's entry (package.json "exports").
  { name: 'index', entry: src('index.ts'), outdir: 'dist/bundle', parent: core },
  // ES module: check-files.ts starts it as './check-worker.js' beside itself.
  { name: 'check-worker', entry: src('check-worker.ts'), outdir: 'dist/bundle', parent: core, esm: true },
  ...['hvci-build', 'hvci-clang-cl', 'hvci-lld-link'].map((name) => ({ name, entry: src(`bin/${name}.ts`), outdir: 'dist/bin', parent: launch })),
];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: root,
  // Names and comments stay (stack traces, the `// src/…` markers); a check of a small driver
  // runs 3.5% fewer instructions (callgrind: 174.9M to 168.9M).
  minifySyntax: true,
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
const chain = (layer) => (layer.parent ? [...chain(layer.parent), layer] : [layer]);
/** The nearest layer above (or equal to) all of `layers`. */
const commonAncestor = (layers) =>
  layers.map(chain).reduce((a, b) => {
    let n = 0;
    while (n < a.length && a[n] === b[n]) n++;
    return a.slice(0, n);
  }).at(-1);
const users = new Map();
const imports = new Map();
LAYERS.forEach((layer, i) => {
  for (const [file, deps] of graphs[i]) {
    users.set(file, [...(users.get(file) ?? []), layer]);
    imports.set(file, deps);
  }
});
const owner = new Map([...users].map(([file, layers]) => [file, commonAncestor(layers)]));
/** For each owner, the modules that other layers import from it. */
const exported = new Map(LAYERS.map((l) => [l, new Set()]));
for (const [file, deps] of imports) {
  for (const dep of deps) if (owner.get(dep) !== owner.get(file)) exported.get(owner.get(dep)).add(dep);
}

/** The names each shared module exports (esbuild lists an entry point's exports). */
async function exportNames(files) {
  if (files.length === 0) return [];
  const result = await esbuild.build({ ...common, entryPoints: files, write: false, metafile: true, format: 'esm', outdir: resolve(root, 'dist/.names') });
  const names = new Map();
  for (const output of Object.values(result.metafile.outputs)) if (output.entryPoint) names.set(resolve(root, output.entryPoint), output.exports);
  return files.map((f) => [f, names.get(f)]);
}
const namesOf = new Map((await Promise.all([...exported.values()].map((set) => exportNames([...set])))).flat());

/**
 * Imports of another layer's modules become a reference to that layer's bundle. The names
 * are copied into constants once (no module exports a binding that changes later), so a
 * call across layers reads a variable, as a call within one does, not two getters.
 */
const shareLayers = (layer) => ({
  name: 'share-layers',
  setup(build) {
    build.onResolve({ filter: /\.c?js$/, namespace: 'layer' }, ({ path }) => ({ path, external: true }));
    build.onResolve({ filter: /^\.\.?\// }, ({ path, resolveDir }) => {
      const file = resolve(resolveDir, path.replace(/\.js$/, '.ts'));
      const other = owner.get(file);
      if (!other || other === layer) return undefined;
      return { path: key(file), namespace: 'layer', pluginData: { other, names: namesOf.get(file) } };
    });
    build.onLoad({ filter: /.*/, namespace: 'layer' }, ({ path, pluginData: { other, names } }) => {
      const from = relative(dirname(outFile(layer)), outFile(other)).replaceAll('\\', '/');
      const spec = from.startsWith('.') ? from : `./${from}`;
      const plain = names.filter((n) => n !== 'default');
      const lines = [`const m = require(${JSON.stringify(spec)}).__modules[${JSON.stringify(path)}];`];
      if (plain.length > 0) lines.push(`export const { ${plain.join(', ')} } = m;`);
      if (names.includes('default')) lines.push('export default m.default;');
      return { contents: lines.join('\n'), loader: 'js' };
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
