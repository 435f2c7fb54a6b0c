/**
 * Rewrites the export section of a WebAssembly binary to keep only some exports. The
 * rest of the module (code, data, imports) is copied unchanged.
 */

const EXPORT_SECTION = 7;

function readLeb(b: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let p = at; p < b.length && shift < 35; p++) {
    const byte = b[p]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, p + 1];
  }
  throw new Error(`bad LEB128 number at offset ${at}`);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** A copy of `wasm` that exports only `keep`; throws if one of them is not exported. */
export function keepExports(wasm: Uint8Array, keep: readonly string[]): Uint8Array {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error('not a WebAssembly module');
  const wanted = new Set(keep);
  const decoder = new TextDecoder();
  let p = 8;
  while (p < wasm.length) {
    const id = wasm[p]!;
    const [size, body] = readLeb(wasm, p + 1);
    const end = body + size;
    if (end > wasm.length) throw new Error(`section ${id} runs past the end`);
    if (id !== EXPORT_SECTION) {
      p = end;
      continue;
    }
    let [count, q] = readLeb(wasm, body);
    const kept: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const start = q;
      const [len, nameAt] = readLeb(wasm, q);
      const name = decoder.decode(wasm.subarray(nameAt, nameAt + len));
      // kind (one byte), then the index
      q = readLeb(wasm, nameAt + len + 1)[1];
      if (wanted.delete(name)) kept.push(wasm.subarray(start, q));
    }
    if (wanted.size > 0) throw new Error(`not exported: ${[...wanted].join(', ')}`);
    const newBody = [Uint8Array.from(leb(kept.length)), ...kept];
    const bodySize = newBody.reduce((n, b) => n + b.length, 0);
    const parts = [wasm.subarray(0, p), Uint8Array.from([EXPORT_SECTION, ...leb(bodySize)]), ...newBody, wasm.subarray(end)];
    const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const part of parts) {
      out.set(part, o);
      o += part.length;
    }
    return out;
  }
  throw new Error('no export section');
}
