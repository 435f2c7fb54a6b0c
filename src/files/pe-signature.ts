import { closeSync, openSync, readSync } from 'node:fs';

/** True when the file starts like a PE image: MZ, and PE\0\0 where e_lfanew points. */
export function looksLikePe(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 64 || head[0] !== 0x4d || head[1] !== 0x5a) return false;
    const sig = Buffer.alloc(4);
    if (readSync(fd, sig, 0, 4, head.readUInt32LE(0x3c)) < 4) return false;
    return sig.readUInt32LE(0) === 0x00004550;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
