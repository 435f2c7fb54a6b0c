/**
 * import(), also from the CLI's bundles: they run as scripts compiled through V8's code
 * cache (./cli/bundle-cache.ts), where Node 20 offers no module loader to import() without
 * --experimental-vm-modules. The CLI's entry point, a real ES module, lends its own.
 */
export const IMPORT_HOOK = Symbol.for('hvci-build.import');

export function importModule<T>(specifier: string): Promise<T> {
  const hook = (globalThis as { [IMPORT_HOOK]?: (s: string) => Promise<unknown> })[IMPORT_HOOK];
  return (hook ? hook(specifier) : import(specifier)) as Promise<T>;
}
