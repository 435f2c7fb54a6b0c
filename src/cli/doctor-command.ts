import { realpathSync } from 'node:fs';
import { runProcess } from '../process/run-process.js';
import { findConfigFile, loadConfig } from '../config/load-config.js';
import { clangClArgs, isExecutable, type ToolName } from '../toolchain/find-tool.js';
import { detectHost, installCommand } from '../toolchain/install-hint.js';
import { resolveTool } from '../toolchain/resolve-tool.js';
import { cachingEnabled } from '../cache-files.js';
import { snapshotDecoder } from '../callsites/iced.js';

const TOOLS: readonly { name: ToolName; needed: string }[] = [
  { name: 'clang-cl', needed: 'hvci-build cc, build' },
  { name: 'lld-link', needed: 'hvci-build link, build' },
  { name: 'llvm-lib', needed: 'import libraries from .def files (build)' },
  { name: 'llvm-dlltool', needed: 'x86 stdcall import libraries (build)' },
];

/** hvci-build doctor: what toolchain was found, its versions, and how to install what is missing. */
export async function doctorCommand(): Promise<number> {
  const cwd = process.cwd();
  const config = await loadConfig(cwd);
  const lines: string[] = [
    `node ${process.version}`,
    `config: ${findConfigFile(cwd) ?? '(none)'}`,
    // check reads the linked image itself, so it runs on a machine with no LLVM at all.
    'tools: hvci-build check needs none (it reads the linked image); cc, link, build and run need those below',
  ];
  const missing: ToolName[] = [];
  for (const t of TOOLS) {
    let path: string | undefined;
    try {
      path = resolveTool(t.name, config, process.env);
    } catch {
      path = undefined;
    }
    if (!path) {
      missing.push(t.name);
      lines.push(`${t.name.padEnd(13)} missing (needed for ${t.needed})`);
      continue;
    }
    if (!isExecutable(path)) {
      missing.push(t.name);
      lines.push(`${t.name.padEnd(13)} missing: ${path} is not an executable file (needed for ${t.needed})`);
      continue;
    }
    const mode = clangClArgs(path).join(' ');
    lines.push(`${t.name.padEnd(13)} ${path}${mode ? ` ${mode}` : ''} (LLVM ${await toolVersion(t.name, path)})`);
  }
  lines.push(`${'decoder'.padEnd(13)} ${decoderLine()}`);
  if (missing.length > 0) lines.push('', `install: ${installCommand(missing, detectHost())}; or set toolchain paths in the config`);
  process.stdout.write(lines.join('\n') + '\n');
  return missing.length > 0 ? 2 : 0;
}

/** Which way the call-site analysis loads iced-x86 (./bundle-cache.ts and ../callsites/iced.ts say why it matters). */
function decoderLine(): string {
  const decoder = snapshotDecoder();
  try {
    decoder.load();
  } catch (err) {
    return `iced-x86 does not load: ${err instanceof Error ? err.message : String(err)}`;
  }
  return decoder.backend() === 'direct'
    ? 'iced-x86, from its snapshot in the cache'
    : `iced-x86, through its own glue${cachingEnabled() ? ' (the first call-site analysis saves a snapshot)' : ' (caches off: HVCI_NO_CODE_CACHE)'}`;
}

/** clang-cl and lld-link say their version; llvm-lib and llvm-dlltool do not, so their path tells. */
async function toolVersion(name: ToolName, path: string): Promise<string> {
  if (name === 'clang-cl' || name === 'lld-link') {
    try {
      const r = await runProcess(path, ['--version'], { cwd: process.cwd(), env: process.env, stdio: 'pipe' });
      const v = /(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1];
      if (v) return v;
    } catch {
      return 'version unknown: it did not run';
    }
  }
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // keep the path as given
  }
  const major = /-(\d+)$/.exec(path)?.[1] ?? /[\\/]llvm-(\d+)[\\/]/.exec(real)?.[1];
  return major ? `${major}.x` : 'version unknown';
}
