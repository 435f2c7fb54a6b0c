import type { Arch } from '../config/build-section.js';

/** Per architecture: clang's target triple, lld-link's /machine, llvm-dlltool's -m. */
export const TARGETS: Readonly<Record<Arch, { triple: string; machine: string; dlltool: string }>> = {
  x64: { triple: 'x86_64-pc-windows-msvc', machine: 'x64', dlltool: 'i386:x86-64' },
  x86: { triple: 'i686-pc-windows-msvc', machine: 'x86', dlltool: 'i386' },
  arm64: { triple: 'aarch64-pc-windows-msvc', machine: 'arm64', dlltool: 'arm64' },
};
