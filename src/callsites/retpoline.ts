/**
 * Retpoline thunks, recognised by their code, since release drivers carry no symbols. LLVM's
 * `__llvm_retpoline_<reg>` (X86IndirectThunks.cpp), for x64 and x86:
 *
 *     call  target          E8 rel32
 *   spin: pause             F3 90
 *     lfence                0F AE E8
 *     jmp   spin            EB F9
 *     (alignment padding)
 *   target: mov [rsp], reg  (REX) 89 /r with mod=00, r/m=100 (SIB 24)
 *     ret                   C3
 *
 * A call or jump to such a thunk is a call or jump to the register it stores.
 */

const SPIN = [0xf3, 0x90, 0x0f, 0xae, 0xe8, 0xeb, 0xf9];

/** The register (0-15) that the retpoline thunk at `at` (an offset into `bytes`) jumps to, or -1. */
export function retpolineRegister(bytes: Uint8Array, at: number, bitness: 32 | 64): number {
  if (at < 0 || at + 12 > bytes.length || bytes[at] !== 0xe8) return -1;
  for (let i = 0; i < SPIN.length; i++) if (bytes[at + 5 + i] !== SPIN[i]) return -1;
  const rel = bytes[at + 1]! | (bytes[at + 2]! << 8) | (bytes[at + 3]! << 16) | (bytes[at + 4]! << 24);
  let t = at + 5 + rel;
  // The target lies past the spin loop, within the alignment padding (at most 15 bytes).
  if (t < at + 12 || t > at + 12 + 16 || t + 4 > bytes.length) return -1;
  let high = 0;
  if (bitness === 64) {
    const rex = bytes[t]!;
    if (t + 5 > bytes.length) return -1;
    if ((rex & 0xfb) !== 0x48) return -1; // REX.W, optionally REX.R
    high = rex & 0x04 ? 8 : 0;
    t++;
  }
  if (bytes[t] !== 0x89 || bytes[t + 2] !== 0x24 || t + 3 >= bytes.length || bytes[t + 3] !== 0xc3) return -1;
  const modrm = bytes[t + 1]!;
  if ((modrm & 0xc7) !== 0x04) return -1; // mod=00, r/m=100 (SIB)
  return high + ((modrm >>> 3) & 7);
}
