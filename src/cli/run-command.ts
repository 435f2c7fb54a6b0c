import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../process/run-process.js';
import { envWithoutShims, resolveTool, SHIM_DIR_ENV } from '../toolchain/resolve-tool.js';
import { isBatchCommand, pathKey, shimFor, wrappedToolName } from '../toolchain/shims.js';
import type { ResolvedConfig } from '../config/schema.js';
import { loadConfig } from '../config/load-config.js';
import { UsageError, writingFile } from './errors.js';
import { RUN_HELP } from './help.js';
import { failure } from '../problems.js';
import { publishResults } from './shared-report.js';
import { takeWrapperOptions, wrapperOptionsEnv } from './wrapper-options.js';

/**
 * hvci-build run -- <build command>: runs the build with clang-cl and lld-link
 * (and their versioned names) on PATH pointing at shims that call the
 * wrappers with the real tool's absolute path, found before the shims were
 * made, so a wrapper never finds itself. On Windows the shims are .cmd files.
 */
export async function runCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const { options, rest: args } = takeWrapperOptions(argv, process.env);
  if (args.length === 0) throw new UsageError('usage: hvci-build run [--format F] [--report FILE] [--include-notes] -- <build command> [arguments]');
  const cwd = process.cwd();
  const config = await loadConfig(cwd, options.config);
  // The wrappers the build calls take the options from the environment; the report is one file.
  const env = { ...envWithoutShims(process.env), ...wrapperOptionsEnv(options, cwd) };
  const pathVar = pathKey(env);
  // Node starts a batch file only through a shell, and passing arguments through cmd's quoting unchanged is not possible in general.
  if (process.platform === 'win32' && isBatchCommand(args[0]!, [cwd, ...(env[pathVar] ?? '').split(delimiter)], existsSync)) {
    throw new UsageError(`hvci-build run: ${args[0]} is a batch file, which Windows starts only through cmd; run: hvci-build run -- cmd /d /c ${args.join(' ')}`);
  }
  const shimDir = writingFile(tmpdir(), () => mkdtempSync(join(tmpdir(), 'hvci-shims-')));
  try {
    const bin = fileURLToPath(new URL('../../dist/bin/hvci-build.cjs', import.meta.url));
    for (const [tool, real] of realTools(env, config)) {
      const shim = shimFor(tool, tool.startsWith('clang-cl') ? 'cc' : 'link', { node: process.execPath, bin, real });
      const file = join(shimDir, shim.name);
      writingFile(file, () => writeFileSync(file, shim.text));
      if (shim.executable) chmodSync(file, 0o755);
    }
    const r = await runProcess(args[0]!, args.slice(1), {
      cwd,
      env: { ...env, [pathVar]: shimDir + delimiter + (env[pathVar] ?? ''), [SHIM_DIR_ENV]: shimDir },
      stdio: 'inherit',
    });
    // A build that failed in a step no wrapper saw (a missing file, a script) must not leave
    // the report passing; one that passed clears that.
    const key = `run ${args.join(' ')} in ${cwd}`;
    const failed = r.exitCode === 0 ? undefined : { files: [], problems: [failure('command-failed', { command: args.join(' '), exitCode: r.exitCode })] };
    if (failed || options.report) await publishResults(key, failed, options, cwd);
    return r.exitCode;
  } finally {
    rmSync(shimDir, { recursive: true, force: true });
  }
}

/** Shim name to real tool: the plain names, plus every versioned name on PATH. */
function realTools(env: NodeJS.ProcessEnv, config: ResolvedConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const tool of ['clang-cl', 'lld-link'] as const) {
    try {
      map.set(tool, resolveTool(tool, config, env));
    } catch {
      // not installed: the build will say so when it calls it
    }
  }
  for (const dir of (env[pathKey(env)] ?? '').split(delimiter)) {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      const tool = wrappedToolName(e);
      if (tool !== undefined && !map.has(tool)) map.set(tool, join(dir, e));
    }
  }
  return map;
}
