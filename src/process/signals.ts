import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

/**
 * Signals to the wrapper (a CI runner's or an IDE's SIGTERM, SIGINT, SIGHUP sent to our pid
 * alone) must not leave the tool running and its image unvalidated: the wrappers trap them,
 * pass them on to the tools they run, wait for those to end, tidy up (an unvalidated image
 * is moved aside, temporary files removed) and exit 128 + the signal's number.
 *
 * On Windows there are no POSIX signals: Node reports Ctrl+C as SIGINT and closing the
 * console as SIGHUP, and the console delivers the same events to the tools, so nothing is
 * forwarded there (child.kill() would terminate the tool abruptly); the wrapper still waits
 * and tidies up. SIGTERM cannot be received on Windows.
 */
const WINDOWS = process.platform === 'win32';
const TRAPPED: readonly NodeJS.Signals[] = WINDOWS ? ['SIGINT', 'SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

let received: NodeJS.Signals | undefined;
const running = new Set<ChildProcess>();
const listeners = new Set<() => void>();

function onSignal(signal: NodeJS.Signals): void {
  received ??= signal;
  if (!WINDOWS) {
    for (const child of running) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
  for (const listener of listeners) listener();
}

let trapped = false;

/** From now on, the signals above are passed to the tools run and remembered, not fatal. */
export function trapSignals(): void {
  if (trapped) return;
  trapped = true;
  for (const s of TRAPPED) process.on(s, onSignal);
}

/** The first signal received since trapSignals(), if any. */
export function receivedSignal(): NodeJS.Signals | undefined {
  return received;
}

/** The shell's exit code for a process ended by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Registers a running tool so a signal reaches it; returns the function that forgets it. */
export function forwardSignalsTo(child: ChildProcess): () => void {
  running.add(child);
  return () => running.delete(child);
}

/** Calls `listener` when a signal arrives (to stop waiting for something); returns the function that removes it. */
export function onInterrupt(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
