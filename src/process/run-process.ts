/**
 * Runs a child process through execa, loaded on first use: the CLI is one
 * bundle, and a static import would load execa on every start, `check` too.
 */
export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** 'inherit' shows the tool's output as the build's; 'pipe' captures it. */
  stdio: 'inherit' | 'pipe';
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class SpawnError extends Error {
  constructor(readonly command: string, reason: string) {
    super(`cannot run ${command}: ${reason}`);
    this.name = 'SpawnError';
  }
}

export async function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const { execa } = await import('execa');
  const r = await execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdio: options.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    reject: false,
  });
  if (r.exitCode === undefined) {
    throw new SpawnError(command, String(r.shortMessage ?? r.message ?? 'failed to start').split('\n')[0]!);
  }
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}
