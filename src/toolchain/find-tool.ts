import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type ToolName = 'clang-cl' | 'lld-link' | 'llvm-lib' | 'llvm-dlltool' | 'llvm-readobj';

const ENV_VAR: Record<ToolName, string> = {
  'clang-cl': 'HVCI_CLANG_CL',
  'lld-link': 'HVCI_LLD_LINK',
  'llvm-lib': 'HVCI_LLVM_LIB',
  'llvm-dlltool': 'HVCI_LLVM_DLLTOOL',
  'llvm-readobj': 'HVCI_LLVM_READOBJ',
};

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
 * Where a tool is: its HVCI_* environment override; else the highest LLVM
 * version among the plain name on PATH and the versioned `name-N` names in any
 * PATH directory (Debian's llvm-19 packages install only `clang-cl-19`, ...).
 * A plain name counts as the version its real path shows (`/usr/lib/llvm-14/`):
 * Debian 12's plain `llvm-lib` is LLVM 14, which has no /def:. A plain name of
 * unknown version (a custom build) wins. Synchronous, without child processes.
 */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env[ENV_VAR[name]];
  if (override) return override;
  const dirs = (env.PATH ?? env.Path ?? '').split(delimiter).filter((d) => d !== '');
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
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
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

/** The LLVM major version a tool's real path names, or Infinity when it names none. */
function llvmVersionOf(path: string): number {
  try {
    const m = /[\\/]llvm-(\d+)[\\/]/.exec(realpathSync(path));
    return m ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

/** findTool, or an Error that says how to get the tool. */
export function requireTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string {
  const path = findTool(name, env);
  if (path !== undefined) return path;
  throw new Error(
    `${name} not found (looked at ${ENV_VAR[name]}, then ${name} and ${name}-N on PATH); ` +
      'on Debian/Ubuntu: apt-get install -y clang-19 lld-19 llvm-19',
  );
}
