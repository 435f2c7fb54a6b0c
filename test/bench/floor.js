// The floor for `hvci-build check` on a large image: a plain Node script that
// only reads the headers and walks the base relocation blocks, nothing else.
import { openSync, readSync, fstatSync } from 'node:fs';

const fd = openSync(process.argv[2], 'r');
const size = fstatSync(fd).size;
const head = Buffer.alloc(Math.min(size, 4096));
readSync(fd, head, 0, head.length, 0);
const pe = head.readUInt32LE(0x3c);
const nsec = head.readUInt16LE(pe + 6);
const optSize = head.readUInt16LE(pe + 20);
const opt = pe + 24;
const is64 = head.readUInt16LE(opt) === 0x20b;
const dirs = opt + (is64 ? 112 : 96);
const relocRva = head.readUInt32LE(dirs + 5 * 8);
const relocSize = head.readUInt32LE(dirs + 5 * 8 + 4);
let relocOff = -1;
for (let i = 0; i < nsec; i++) {
  const s = opt + optSize + i * 40;
  const va = head.readUInt32LE(s + 12);
  const raw = head.readUInt32LE(s + 16);
  if (relocRva >= va && relocRva < va + raw) relocOff = head.readUInt32LE(s + 20) + (relocRva - va);
}
const relocs = Buffer.alloc(relocSize);
readSync(fd, relocs, 0, relocSize, relocOff);
let entries = 0;
let straddling = 0;
for (let pos = 0; pos + 8 <= relocSize; ) {
  const page = relocs.readUInt32LE(pos);
  const blockSize = relocs.readUInt32LE(pos + 4);
  if (blockSize < 8) break;
  for (let at = pos + 8; at < pos + blockSize; at += 2) {
    const e = relocs[at] | (relocs[at + 1] << 8);
    if (e >>> 12 === 0) continue;
    entries++;
    if (((page + (e & 0xfff)) & 0xfff) + 8 > 0x1000) straddling++;
  }
  pos += blockSize;
}
process.stdout.write(`${entries} relocations, ${straddling} straddling\n`);
