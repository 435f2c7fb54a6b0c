import { ConfigError } from './config-error.js';

export type Arch = 'x64' | 'x86' | 'arm64';

/** The `build` section of the config: a driver project with no build system of its own. */
export interface BuildConfig {
  /** Source globs, relative to the config's directory. */
  sources: string[];
  include: string[];
  defines: string[];
  arch: Arch;
  /** Import or static libraries to link (paths relative to the config's directory). */
  libraries: string[];
  /** Module-definition files turned into import libraries (llvm-lib /def:, llvm-dlltool -k for x86). */
  defs: string[];
  /** The driver image, relative to the config's directory. */
  output: string;
  /** Where objects, import libraries and the build state go. */
  outDir: string;
  entry: string;
  cflags: string[];
  ldflags: string[];
  /** CodeView in the objects (/Z7) and a PDB beside the driver (/debug): findings get source lines. Default true. */
  debug: boolean;
}

const ARCHES: readonly Arch[] = ['x64', 'x86', 'arm64'];
const LIST_KEYS = ['sources', 'include', 'defines', 'libraries', 'defs', 'cflags', 'ldflags'] as const;
const STRING_KEYS = ['output', 'outDir', 'entry', 'arch'] as const;
const BOOLEAN_KEYS = ['debug'] as const;

export function validateBuildConfig(raw: unknown, file: string): BuildConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, 'build', 'must be an object');
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const known: readonly string[] = [...LIST_KEYS, ...STRING_KEYS, ...BOOLEAN_KEYS];
    if (!known.includes(key)) throw new ConfigError(file, `build.${key}`, `unknown key (known: ${known.join(', ')})`);
  }
  const list = (key: (typeof LIST_KEYS)[number]): string[] => {
    const v = obj[key];
    if (v === undefined) return [];
    const arr = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string')) throw new ConfigError(file, `build.${key}`, 'must be a list of strings');
    return arr as string[];
  };
  const str = (key: (typeof STRING_KEYS)[number], fallback: string): string => {
    const v = obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '') throw new ConfigError(file, `build.${key}`, 'must be a non-empty string');
    return v;
  };
  const sources = list('sources');
  if (sources.length === 0) throw new ConfigError(file, 'build.sources', 'names no source files (globs such as "src/**/*.c")');
  const arch = str('arch', 'x64');
  if (!ARCHES.includes(arch as Arch)) throw new ConfigError(file, 'build.arch', `must be one of ${ARCHES.join(', ')}, not '${arch}'`);
  const outDir = str('outDir', 'build');
  if (obj.debug !== undefined && typeof obj.debug !== 'boolean') throw new ConfigError(file, 'build.debug', 'must be true or false');
  return {
    sources,
    include: list('include'),
    defines: list('defines'),
    arch: arch as Arch,
    libraries: list('libraries'),
    defs: list('defs'),
    output: str('output', `${outDir}/driver.sys`),
    outDir,
    entry: str('entry', 'DriverEntry'),
    cflags: list('cflags'),
    ldflags: list('ldflags'),
    debug: obj.debug !== false,
  };
}
