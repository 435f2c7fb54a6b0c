import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join, win32 } from 'node:path';
import { missingToolMessage } from './install-hint.js';

export type ToolName = 'clang-cl' | 'lld-link' | 'llvm-lib' | 'llvm-dlltool' | 'llvm-readobj';

/** The environment variable that names a tool's path: HVCI_CLANG_CL, HVCI_LLD_LINK, ... */
export function toolEnvVar(name: ToolName): string {
  return `HVCI_${name.replace(/-/g, '_').toUpperCase()}`;
}

/** The variable that replaces the built-in list of LLVM install directories searched after PATH. */
export const LLVM_DIRS_ENV = 'HVCI_LLVM_DIRS';

const EXE = process.platform === 'win32' ? '.exe' : '';

/** An executable regular file. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Where LLVM is installed without being on PATH: Homebrew's keg-only llvm and
 * llvm@N (lld is its own formula, lld and lld@N, since LLVM 19), Debian's and
 * apt.llvm.org's /usr/lib/llvm-N/bin, Fedora's /usr/lib64/llvmN/bin for its
 * versioned packages, and the LLVM installer's directory on Windows.
 * HVCI_LLVM_DIRS replaces the list (empty: none).
 */
export function llvmInstallDirs(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  const override = env[LLVM_DIRS_ENV];
  if (override !== undefined) return override.split(delimiter).filter((d) => d !== '');
  if (platform === 'win32') {
    const roots = [env.ProgramW6432, env.ProgramFiles, 'C:\\Program Files'].filter((r): r is string => !!r);
    return [...new Set(roots.map((r) => win32.join(r, 'LLVM', 'bin')))];
  }
  const dirs: string[] = [];
  for (const opt of ['/opt/homebrew/opt', '/usr/local/opt', '/home/linuxbrew/.linuxbrew/opt']) {
    // The unversioned keg (the newest LLVM) first, then llvm@N from the highest N.
    const kegs = listDir(opt)
      .map((e) => /^(llvm|lld)(?:@(\d+))?$/.exec(e))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => (b[2] === undefined ? Infinity : Number(b[2])) - (a[2] === undefined ? Infinity : Number(a[2])));
    for (const m of kegs) dirs.push(join(opt, m[0], 'bin'));
  }
  for (const [parent, pattern] of [['/usr/lib', /^llvm-(\d+)$/], ['/usr/lib64', /^llvm(\d+)$/]] as const) {
    const versions = listDir(parent)
      .map((e) => pattern.exec(e))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]));
    for (const m of versions) dirs.push(join(parent, m[0], 'bin'));
  }
  return dirs;
}

/**
 * Where a tool is: its HVCI_* environment override; else the newest LLVM
 * among the plain name and the versioned `name-N` names (Debian's llvm-19
 * packages install only `clang-cl-19`, ...) on PATH; else the same in the
 * LLVM install directories (llvmInstallDirs). For clang-cl, when neither has
 * it, plain clang or clang-N, which acts as clang-cl given --driver-mode=cl
 * (clangClArgs): Debian's clang-19 only recommends clang-tools-19, which has
 * clang-cl-19. Synchronous, without child processes.
 */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env, installDirs: readonly string[] = llvmInstallDirs(env)): string | undefined {
  const override = env[toolEnvVar(name)];
  if (override) return override;
  const pathDirs = (env.PATH ?? env.Path ?? '').split(delimiter).filter((d) => d !== '');
  const names = name === 'clang-cl' ? [name, 'clang'] : [name];
  for (const n of names) {
    for (const dirs of [pathDirs, installDirs]) {
      const found = newestIn(n, dirs);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The arguments that make a found compiler act as clang-cl: plain clang needs --driver-mode=cl. */
export function clangClArgs(compiler: string): string[] {
  const base = compiler.split(/[\\/]/).pop()!.toLowerCase().replace(/\.exe$/, '');
  return /^clang(-\d+)?$/.test(base) ? ['--driver-mode=cl'] : [];
}

/**
 * The highest LLVM version of `name` in dirs: the first plain name counts as
 * the version its real path shows (`/usr/lib/llvm-14/`: Debian 12's plain
 * llvm-lib is LLVM 14, which has no /def:); one of unknown version (a custom
 * build) wins over versioned names.
 */
function newestIn(name: string, dirs: readonly string[]): string | undefined {
  let plain: { path: string; version: number } | undefined;
  for (const dir of dirs) {
    const path = join(dir, name + EXE);
    if (isExecutable(path)) {
      plain = { path, version: llvmVersionOf(path) };
      break;
    }
  }
  if (plain && plain.version === Infinity) return plain.path;
  const versioned = new RegExp(`^${name}-(\\d+)${EXE.replace('.', '\\.')}$`, 'i');
  let best = plain;
  for (const dir of dirs) {
    for (const entry of listDir(dir)) {
      const m = versioned.exec(entry);
      if (m === null) continue;
      const version = Number(m[1]);
      if (best !== undefined && version <= best.version) continue;
      const path = join(dir, entry);
      if (isExecutable(path)) best = { path, version };
    }
  }
  return best?.path;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The LLVM major version a tool's real path names (Debian's llvm-N, Homebrew's Cellar), or Infinity when it names none. */
function llvmVersionOf(path: string): number {
  try {
    const real = realpathSync(path);
    const m = /[\\/]llvm-(\d+)[\\/]/.exec(real) ?? /[\\/]Cellar[\\/](?:llvm|lld)(?:@\d+)?[\\/](\d+)\./.exec(real);
    return m ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

/** findTool, or an Error that says how to get the tool on this host. */
export function requireTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string {
  const path = findTool(name, env);
  if (path !== undefined) return path;
  throw new Error(missingToolMessage(name));
}
