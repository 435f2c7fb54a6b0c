import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../process/run-process.js';
import { findTool } from '../toolchain/find-tool.js';
import { envWithoutShims, SHIM_DIR_ENV } from '../toolchain/resolve-tool.js';
import { loadConfig } from '../config/load-config.js';
import { UsageError } from './errors.js';

/**
 * hvci-build run -- <build command>: runs the build with clang-cl and lld-link
 * (and their versioned names) on PATH pointing at shims that call the
 * wrappers with the real tool's absolute path, found before the shims were
 * made, so a wrapper never finds itself.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if (args.length === 0) throw new UsageError('usage: hvci-build run -- <build command> [arguments]');
  const cwd = process.cwd();
  const config = await loadConfig(cwd);
  const env = envWithoutShims(process.env);
  const shimDir = mkdtempSync(join(tmpdir(), 'hvci-shims-'));
  try {
    const bin = fileURLToPath(new URL('../../bin/hvci-build.js', import.meta.url));
    for (const [tool, real] of realTools(env, config.toolchain)) {
      const shim = join(shimDir, tool);
      writeFileSync(shim, `#!/bin/sh\nexec ${sh(process.execPath)} ${sh(bin)} launch ${sh(real)} "$@"\n`);
      chmodSync(shim, 0o755);
    }
    const r = await runProcess(args[0]!, args.slice(1), {
      cwd,
      env: { ...env, PATH: shimDir + delimiter + (env.PATH ?? ''), [SHIM_DIR_ENV]: shimDir },
      stdio: 'inherit',
    });
    return r.exitCode;
  } finally {
    rmSync(shimDir, { recursive: true, force: true });
  }
}

/** Shim name to real tool: the plain names, plus every versioned name on PATH. */
function realTools(env: NodeJS.ProcessEnv, configured: Record<string, string>): Map<string, string> {
  const map = new Map<string, string>();
  for (const tool of ['clang-cl', 'lld-link'] as const) {
    const real = configured[tool] ?? findTool(tool, env);
    if (real) map.set(tool, real);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (/^(clang-cl|lld-link)-\d+$/.test(e) && !map.has(e)) map.set(e, join(dir, e));
    }
  }
  return map;
}

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
