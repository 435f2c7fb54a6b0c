// Builds (once, cached) a synthetic driver of at least 25 MB with at least
// 1,000,000 base relocations, from C, with the real clang-cl and lld-link.
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { requireTool } from '../../dist/toolchain/find-tool.js';

const POINTERS = 1 << 20; // 1,048,576 DIR64 relocations
const FILLER_MB = 16;

// Nested macros keep the source small; clang expands them.
const SOURCE = `
typedef long NTSTATUS;
__declspec(dllimport) void* __stdcall ExAllocatePoolWithTag(int, unsigned long long, unsigned long);
char target[64];
#define P1 (void*)&target,
#define P8 P1 P1 P1 P1 P1 P1 P1 P1
#define P64 P8 P8 P8 P8 P8 P8 P8 P8
#define P512 P64 P64 P64 P64 P64 P64 P64 P64
#define P4K P512 P512 P512 P512 P512 P512 P512 P512
#define P32K P4K P4K P4K P4K P4K P4K P4K P4K
#define P256K P32K P32K P32K P32K P32K P32K P32K P32K
void* table[${POINTERS}] = { P256K P256K P256K P256K };
unsigned char filler[${FILLER_MB} << 20] = { 1 };
NTSTATUS __stdcall DriverEntry(void* d, void* r) {
  (void)d; (void)r;
  table[1] = ExAllocatePoolWithTag(0x200, 16, 'gibT');
  filler[7] = (unsigned char)(unsigned long long)table[2];
  return 0;
}
`;

export async function largeDriver(cacheDir) {
  const out = join(cacheDir, 'large.sys');
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const work = join(cacheDir, `large-${process.pid}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'large.c'), SOURCE);
  writeFileSync(join(work, 'nt.def'), 'LIBRARY ntoskrnl.exe\nEXPORTS\n  ExAllocatePoolWithTag\n');
  await execa(requireTool('llvm-lib'), ['/nologo', `/def:${join(work, 'nt.def')}`, '/machine:x64', `/out:${join(work, 'nt.lib')}`]);
  await execa(requireTool('clang-cl'), ['/nologo', '/c', '/kernel', '/GS-', '/O1', '--target=x86_64-pc-windows-msvc', `/Fo${join(work, 'large.obj')}`, '--', join(work, 'large.c')]);
  await execa(requireTool('lld-link'), [
    '/nologo', '/driver', '/subsystem:native', '/entry:DriverEntry', '/nodefaultlib',
    join(work, 'large.obj'), join(work, 'nt.lib'), `/out:${join(work, 'large.sys')}`,
  ]);
  renameSync(join(work, 'large.sys'), out);
  return out;
}

export function sizeMB(path) {
  return statSync(path).size / (1 << 20);
}
