import { runProcess } from '../process/run-process.js';
import { expandResponseFiles } from '../cmdline/response-files.js';
import type { ResolvedConfig } from '../config/schema.js';
import { resolveTool } from '../toolchain/resolve-tool.js';
import { clangClArgs } from '../toolchain/find-tool.js';

export interface CcContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  config: ResolvedConfig;
  /** The real clang-cl, when the caller knows it (launcher form). */
  compiler?: string;
  /** Say what was injected. */
  verbose?: boolean;
  /** Keep the compiler's error output for a report (it is shown as well). */
  capture?: boolean;
}

/**
 * What hvci-build cc adds in front of the user's arguments: /Gy (function-level
 * linking; it does not avoid straddling relocations, which come from the data's
 * layout) and NX opt-in for default pool allocations, unless the command line
 * already chooses POOL_NX_OPTIN or POOL_NX_OPTIN_AUTO.
 * The user's flags come after, so an explicit /Gy- still wins.
 */
export function ccInjectedFlags(args: readonly string[], cwd: string): string[] {
  const expanded = expandResponseFiles(args, 'windows', cwd);
  const injected = ['/Gy'];
  if (!definesNxOptIn(expanded)) injected.push('-DPOOL_NX_OPTIN_AUTO=1');
  return injected;
}

function definesNxOptIn(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    // /clang:-DX reaches the driver as -DX.
    const a = args[i]!.replace(/^\/clang:/i, '');
    let define: string | undefined;
    if (/^[-/]D$/.test(a)) define = args[i + 1]?.replace(/^\/clang:/i, '');
    else if (/^[-/]D/.test(a)) define = a.slice(2);
    // clang-cl, like cl, takes /DNAME#VALUE as /DNAME=VALUE.
    if (define !== undefined && /^POOL_NX_OPTIN(_AUTO)?([=#]|$)/.test(define)) return true;
  }
  return false;
}

/** Runs the real clang-cl with the injected flags and the user's command line, unchanged. */
export async function runCc(argv: readonly string[], ctx: CcContext): Promise<{ exitCode: number; compiler: string; stderr: string }> {
  const compiler = ctx.compiler ?? resolveTool('clang-cl', ctx.config, ctx.env);
  const injected = ccInjectedFlags(argv, ctx.cwd);
  if (ctx.verbose) process.stderr.write(`hvci-build cc: note: injected ${injected.join(' ')}\n`);
  const args = [...clangClArgs(compiler), ...injected, ...argv];
  const r = await runProcess(compiler, args, { cwd: ctx.cwd, env: ctx.env, stdio: ctx.capture ? 'tee' : 'inherit' });
  return { exitCode: r.exitCode, compiler, stderr: r.stderr };
}
