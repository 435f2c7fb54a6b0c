import { damaged } from './errors.js';

/**
 * An MSF 7.00 container (the PDB's file system), read with every size and index checked
 * against the file: block indices below the block count, the directory and each stream no
 * larger than the file, and no block used twice (in a real PDB each block belongs to one
 * stream; a list naming a block again is a cycle). So the streams together are no larger
 * than the file. A stream in consecutive blocks (as lld-link writes most) is a view of the
 * file; others are copied when read, and the reader reads each stream once.
 */
const MAGIC = 'Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0';
const BLOCK_SIZES = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768]);

export class Msf {
  readonly blockSize: number;
  private readonly blockCount: number;
  private readonly sizes: number[] = [];
  private readonly blocks: Uint32Array[] = [];

  constructor(private readonly b: Buffer) {
    if (b.length < 56 || b.toString('latin1', 0, 32) !== MAGIC) damaged('container', 'not an MSF 7.00 file');
    this.blockSize = b.readUInt32LE(32);
    if (!BLOCK_SIZES.has(this.blockSize)) damaged('container', `block size ${this.blockSize}`);
    this.blockCount = Math.min(b.readUInt32LE(40), Math.floor(b.length / this.blockSize));
    const used = new Uint8Array(this.blockCount);
    const claim = (blk: number): number => {
      if (blk >= this.blockCount) damaged('container', `block ${blk} past the end of the file (${this.blockCount} blocks)`);
      if (used[blk]) damaged('container', `block ${blk} used twice`);
      used[blk] = 1;
      return blk;
    };
    const dirBytes = b.readUInt32LE(44);
    if (dirBytes < 4 || dirBytes > b.length) damaged('container', `stream directory of ${dirBytes} bytes in a ${b.length}-byte file`);
    const dirBlocks = Math.ceil(dirBytes / this.blockSize);
    // The directory's block list fits in the one block the superblock names.
    if (dirBlocks * 4 > this.blockSize) damaged('container', 'stream directory block list larger than a block');
    const map = this.block(claim(b.readUInt32LE(52)));
    const dir = Buffer.alloc(dirBlocks * this.blockSize);
    for (let i = 0; i < dirBlocks; i++) this.block(claim(map.readUInt32LE(i * 4))).copy(dir, i * this.blockSize);
    const n = dir.readUInt32LE(0);
    if (4 + n * 4 > dirBytes) damaged('container', `${n} streams do not fit the directory`);
    let at = 4 + n * 4;
    for (let s = 0; s < n; s++) {
      const size = dir.readUInt32LE(4 + s * 4);
      const real = size === 0xffffffff ? 0 : size;
      if (real > b.length) damaged('container', `stream ${s} of ${real} bytes in a ${b.length}-byte file`);
      const count = Math.ceil(real / this.blockSize);
      if (at + count * 4 > dirBytes) damaged('container', 'stream block lists run past the directory');
      const list = new Uint32Array(count);
      for (let k = 0; k < count; k++, at += 4) list[k] = claim(dir.readUInt32LE(at));
      this.sizes.push(real);
      this.blocks.push(list);
    }
  }

  get streamCount(): number {
    return this.sizes.length;
  }

  private block(i: number): Buffer {
    if (i >= this.blockCount) damaged('container', `block ${i} past the end of the file`);
    const start = i * this.blockSize;
    return this.b.subarray(start, start + this.blockSize);
  }

  /** Stream `s`; `what` names it in the error when it is missing. */
  stream(s: number, what: string): Buffer {
    const size = this.sizes[s];
    if (size === undefined) damaged('stream', `no ${what} stream (${s})`);
    const list = this.blocks[s]!;
    if (list.every((blk, i) => blk === list[0]! + i)) {
      const start = (list[0] ?? 0) * this.blockSize;
      return this.b.subarray(start, start + size);
    }
    const whole = Buffer.alloc(list.length * this.blockSize);
    list.forEach((blk, i) => this.block(blk).copy(whole, i * this.blockSize));
    return whole.subarray(0, size);
  }
}
