/**
 * The little of WebAssembly used here, typed: the compiler's lib has no WebAssembly
 * declarations without the DOM lib.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

export type WasmModule = { readonly kind: 'WebAssembly.Module' };

interface WasmRuntime {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: object };
}

const wasm = (): WasmRuntime => (globalThis as unknown as { WebAssembly: WasmRuntime }).WebAssembly;

export const compileWasm = (bytes: Uint8Array): WasmModule => new (wasm().Module)(bytes);

export const instantiateWasm = (module: WasmModule, imports: object): object => new (wasm().Instance)(module, imports).exports;
