// Builds (once, cached) a synthetic driver of at least 25 MB with at least
// 1,000,000 base relocations, from C, with the real clang-cl and lld-link.
// Its code is realistic too: thousands of small functions, a few of which allocate
// (NX pool, POOL_FLAG_NON_PAGED, MdlMappingNoExecute), so call-site analysis has
// code to scan and calls to follow.
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { requireTool } from '../../dist/toolchain/find-tool.js';

const POINTERS = 1 << 20; // 1,048,576 DIR64 relocations
const FILLER_MB = 16;

// Nested macros keep the source small; clang expands them.
const FUNCTIONS = 6000;

function functions() {
  const out = [];
  for (let n = 0; n < FUNCTIONS; n++) {
    let body = `  long a = x * ${n + 3};\n  for (int i = 0; i < (x & 15); i++) a = a * 31 + (a >> 3) + ${n};\n`;
    if (n % 500 === 7) body += `  void* p = ExAllocatePoolWithTag(0x200, 64 + (a & 63), 'gibT');\n  if (p) ExFreePoolWithTag(p, 'gibT');\n`;
    if (n % 1500 === 11) body += `  void* q = ExAllocatePool2(0x40, 32, 'gibT');\n  if (q) ExFreePoolWithTag(q, 'gibT');\n`;
    if (n % 2000 === 13) body += `  sinkp = MmMapLockedPagesSpecifyCache(mdl, 0, 1, 0, 0, 0x40000010);\n`;
    out.push(`__declspec(noinline) long f${n}(long x) {\n${body}  sink = a;\n  return a ^ ${n};\n}`);
  }
  out.push(`long (*const functions[${FUNCTIONS}])(long) = { ${Array.from({ length: FUNCTIONS }, (_, n) => `f${n}`).join(', ')} };`);
  return out.join('\n');
}

// Nested macros keep the table source small; clang expands them.
const SOURCE = `
typedef long NTSTATUS;
__declspec(dllimport) void* __stdcall ExAllocatePoolWithTag(int, unsigned long long, unsigned long);
__declspec(dllimport) void* __stdcall ExAllocatePool2(unsigned long long, unsigned long long, unsigned long);
__declspec(dllimport) void __stdcall ExFreePoolWithTag(void*, unsigned long);
__declspec(dllimport) void* __stdcall MmMapLockedPagesSpecifyCache(void*, char, int, void*, unsigned long, unsigned long);
char target[64];
volatile long sink;
void* volatile sinkp;
void* volatile mdl;
#define P1 (void*)&target,
#define P8 P1 P1 P1 P1 P1 P1 P1 P1
#define P64 P8 P8 P8 P8 P8 P8 P8 P8
#define P512 P64 P64 P64 P64 P64 P64 P64 P64
#define P4K P512 P512 P512 P512 P512 P512 P512 P512
#define P32K P4K P4K P4K P4K P4K P4K P4K P4K
#define P256K P32K P32K P32K P32K P32K P32K P32K P32K
void* table[${POINTERS}] = { P256K P256K P256K P256K };
unsigned char filler[${FILLER_MB} << 20] = { 1 };
${functions()}
NTSTATUS __stdcall DriverEntry(void* d, void* r) {
  (void)d; (void)r;
  table[1] = ExAllocatePoolWithTag(0x200, 16, 'gibT');
  filler[7] = (unsigned char)(unsigned long long)table[2];
  for (int i = 0; i < ${FUNCTIONS}; i++) sink += functions[i](i);
  return 0;
}
`;

export async function largeDriver(cacheDir) {
  // Renamed when the source changes, so that an older cached driver is not reused.
  const out = join(cacheDir, 'large-callsites.sys');
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const work = join(cacheDir, `large-${process.pid}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'large.c'), SOURCE);
  writeFileSync(
    join(work, 'nt.def'),
    'LIBRARY ntoskrnl.exe\nEXPORTS\n  ExAllocatePoolWithTag\n  ExAllocatePool2\n  ExFreePoolWithTag\n  MmMapLockedPagesSpecifyCache\n',
  );
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
