import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** What a path that is not a regular file is, for messages ("is a FIFO"). */
export function fileKind(s: Stats): string {
  if (s.isFile()) return 'regular file';
  if (s.isDirectory()) return 'directory';
  if (s.isFIFO()) return 'FIFO';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character device';
  if (s.isBlockDevice()) return 'block device';
  if (s.isSymbolicLink()) return 'symbolic link';
  return 'special file';
}

// Opening a FIFO for reading waits for a writer, forever if none comes; with
// O_NONBLOCK the open returns at once and fstat says what it is. (0 on Windows,
// which has no FIFOs in the file system.)
export const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The whole file, if it is a regular file of at most `maxSize` bytes; undefined
 * when it is missing, unreadable, not a regular file or too large. Never blocks
 * on a FIFO or a device.
 */
export function readRegularFile(path: string | Buffer, maxSize: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile() || s.size > maxSize) return undefined;
    const buf = Buffer.allocUnsafe(s.size);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, done);
      if (n === 0) return buf.subarray(0, done); // shrank while being read
      done += n;
    }
    return buf;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
