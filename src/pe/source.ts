import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Random access to the bytes of an image. Files are read piecewise at the
 * offsets the headers name, so a 25 MB driver costs only its headers and
 * directories; buffers (tests, the build wrapper) are sliced without copying.
 */
export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; callers check bounds against `size` first. */
  read(offset: number, length: number): Buffer;
  close(): void;
}

export function bufferSource(data: Uint8Array): ByteSource {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return {
    size: buf.length,
    read: (offset, length) => buf.subarray(offset, offset + length),
    close: () => {},
  };
}

// Files smaller than this are read whole: one read beats several small ones.
const WHOLE_FILE_LIMIT = 1 << 20;
const BLOCK = 1 << 16;

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= WHOLE_FILE_LIMIT) {
      const buf = Buffer.allocUnsafe(size);
      readFully(fd, buf, 0);
      closeSync(fd);
      return bufferSource(buf);
    }
    let open = true;
    // Small reads (descriptors, thunks, names) go through a cache of 64 KiB
    // blocks, so walking the imports costs a few reads, not one per field.
    const blocks = new Map<number, Buffer>();
    const block = (index: number): Buffer => {
      let b = blocks.get(index);
      if (!b) {
        const start = index * BLOCK;
        b = Buffer.allocUnsafe(Math.min(BLOCK, size - start));
        readFully(fd, b, start);
        blocks.set(index, b);
      }
      return b;
    };
    return {
      size,
      read(offset, length) {
        const first = Math.floor(offset / BLOCK);
        if (length <= BLOCK && first === Math.floor((offset + length - 1) / BLOCK)) {
          const b = block(first);
          return b.subarray(offset - first * BLOCK, offset - first * BLOCK + length);
        }
        const buf = Buffer.allocUnsafe(length);
        readFully(fd, buf, offset);
        return buf;
      },
      close() {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed above
    }
    throw err;
  }
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of file at offset ${position + done}`);
    done += n;
  }
}
