import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { OPEN_FLAGS } from './regular-file.js';

/**
 * Whether a file starts like a PE image (MZ, and PE\0\0 where e_lfanew points),
 * or why it could not be read: an error code such as 'EACCES'. Only a regular
 * file is read; opening never blocks (see regular-file.ts).
 */
export function peSignature(path: string | Buffer): 'pe' | 'not-pe' | { error: NodeJS.ErrnoException } {
  let fd: number | undefined;
  try {
    fd = openSync(path, OPEN_FLAGS);
    if (!fstatSync(fd).isFile()) return 'not-pe';
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 64 || head[0] !== 0x4d || head[1] !== 0x5a) return 'not-pe';
    const sig = Buffer.alloc(4);
    if (readSync(fd, sig, 0, 4, head.readUInt32LE(0x3c)) < 4) return 'not-pe';
    return sig.readUInt32LE(0) === 0x00004550 ? 'pe' : 'not-pe';
  } catch (err) {
    return { error: err as NodeJS.ErrnoException };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
