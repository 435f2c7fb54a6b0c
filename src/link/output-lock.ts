import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { removeQuietly } from '../files/write-atomically.js';
import { onInterrupt, receivedSignal } from '../process/signals.js';

export const LOCK_SUFFIX = '.hvci-lock';

/** How often a waiting link looks at the lock again. */
const POLL_MS = 50;
/** A lock file still empty after this long belongs to a process that died between creating and writing it. */
const EMPTY_LOCK_STALE_MS = 10_000;

export interface OutputLock {
  release(): void;
}

/**
 * Two links to one output (two make jobs, a build and an IDE) must each learn whether their
 * own image is good: without a lock, one could validate, or move aside, the other's image.
 * The link, its validation and the moving aside of a bad image run holding
 * `<output>.hvci-lock`, a file made with O_EXCL holding the holder's pid; a second link
 * waits for it. A lock whose process is gone (killed with SIGKILL) is taken over. Returns
 * undefined, without waiting, when the lock cannot be made at all (a missing or read-only
 * directory: the link will say why), and when a signal interrupts the wait (after
 * `signalGraceMs` more, when given).
 */
export async function lockOutput(output: string, onWait: (holder: string) => void, options: { signalGraceMs?: number } = {}): Promise<OutputLock | undefined> {
  const path = output + LOCK_SUFFIX;
  let told = false;
  // With signalGraceMs, a signal does not end the wait at once: a lock held for milliseconds
  // (the shared report's) is still waited for, that long at most.
  let deadline: number | undefined;
  for (;;) {
    const fd = tryCreate(path);
    if (fd === 'cannot') return undefined; // no lock, no wait: the link will say what is wrong
    if (fd !== 'exists') {
      try {
        writeSync(fd, String(process.pid));
      } catch {
        // A full disk: no lock, as when it cannot be made; the writes that follow will say why.
        closeSync(fd);
        removeQuietly(path);
        return undefined;
      }
      closeSync(fd);
      return { release: () => removeQuietly(path) };
    }
    const holder = readHolder(path);
    if (holder === 'stale') {
      removeQuietly(path);
      continue;
    }
    if (!told) {
      told = true;
      onWait(holder);
    }
    if (deadline !== undefined) {
      if (Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, POLL_MS));
    } else if (!(await pause())) {
      if (options.signalGraceMs === undefined) return undefined;
      deadline = Date.now() + options.signalGraceMs;
    }
  }
}

/** An open descriptor for a new lock file, 'exists' when another holds it, 'cannot' when it cannot be made. */
function tryCreate(path: string): number | 'exists' | 'cannot' {
  try {
    return openSync(path, 'wx');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'exists' : 'cannot';
  }
}

/** The holder's pid as text, or 'stale' when that process is gone. */
function readHolder(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return 'stale'; // released meanwhile: try again at once
  }
  if (text === '') {
    try {
      return Date.now() - statSync(path).mtimeMs > EMPTY_LOCK_STALE_MS ? 'stale' : 'a starting link';
    } catch {
      return 'stale';
    }
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return 'stale';
  try {
    process.kill(pid, 0);
    return `pid ${pid}`;
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? `pid ${pid}` : 'stale';
  }
}

/** Waits POLL_MS; false when a signal arrived (the wrapper is stopping). */
function pause(): Promise<boolean> {
  if (receivedSignal()) return Promise.resolve(false);
  return new Promise((resolve) => {
    const off = onInterrupt(() => {
      clearTimeout(timer);
      off();
      resolve(false);
    });
    const timer = setTimeout(() => {
      off();
      resolve(true);
    }, POLL_MS);
  });
}
