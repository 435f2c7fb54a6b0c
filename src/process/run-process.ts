import { spawn } from 'node:child_process';
import { forwardSignalsTo, receivedSignal, signalExitCode } from './signals.js';

/**
 * Runs a child process with node:child_process rather than execa: the link
 * wrapper has a 60 ms budget over bare lld-link, and loading execa alone took
 * ~20 ms of it. Tests and scripts still use execa.
 */
export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * 'inherit' shows the tool's output as the build's; 'pipe' captures it; 'tee' shows it and
   * captures its stderr too (for a report to quote the tool's error).
   */
  stdio: 'inherit' | 'pipe' | 'tee';
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

/**
 * Runs a tool and waits for it. A signal the wrapper receives meanwhile is passed on (see
 * signals.ts); once one was received, no new tool starts: the result is the signal's exit code.
 */
export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const pending = receivedSignal();
  if (pending) return Promise.resolve({ exitCode: signalExitCode(pending), stdout: '', stderr: '' });
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: options.stdio === 'inherit' ? 'inherit' : options.stdio === 'tee' ? ['inherit', 'inherit', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
    const forget = forwardSignalsTo(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      if (options.stdio === 'tee') process.stderr.write(b);
      err.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      forget();
      reject(new SpawnError(command, e.code ?? e.message));
    });
    child.on('close', (code, signal) => {
      forget();
      resolve({
        // A tool killed by a signal failed: report it as the shell does, 128 + signal number.
        exitCode: code ?? (signal ? signalExitCode(signal) : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
