import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { requireTool } from '../../src/toolchain/find-tool.js';

export const FIXTURE_SRC = fileURLToPath(new URL('../fixtures/src/', import.meta.url));
export const FIXTURE_INCLUDE = fileURLToPath(new URL('../fixtures/include/', import.meta.url));
export const FIXTURE_DEF = fileURLToPath(new URL('../fixtures/lib/ntoskrnl.def', import.meta.url));

/**
 * This run's scratch directory: made by the global setup with mkdtemp and handed to the
 * workers through the environment, so two suites (two checkouts, or a helper's) never share
 * or delete each other's files. A test file run without the global setup gets its own.
 */
export function testTmp(): string {
  process.env.HVCI_TEST_TMP ??= mkdtempSync(join(tmpdir(), 'hvci-build-tests-'));
  return process.env.HVCI_TEST_TMP;
}

export function tempDir(prefix: string): string {
  const root = testTmp();
  mkdirSync(root, { recursive: true });
  return mkdtempSync(join(root, `${prefix}-`));
}

/** Compiles one fixture source to an x64 object with the bare clang-cl (no wrapper). */
export async function compileFixture(source: string, outDir: string, extra: string[] = []): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const obj = join(outDir, source.replace(/\.c$/, '.obj'));
  await execa(requireTool('clang-cl'), [
    '/nologo', '/c', '/kernel', '/GS-', '/O2', '--target=x86_64-pc-windows-msvc',
    `/I${FIXTURE_INCLUDE}`, ...extra, `/Fo${obj}`, '--', join(FIXTURE_SRC, source),
  ]);
  return obj;
}

/** ntoskrnl.lib for x64 from the fixtures' .def. */
export async function importLib(outDir: string): Promise<string> {
  const lib = join(outDir, 'ntoskrnl.lib');
  await execa(requireTool('llvm-lib'), ['/nologo', `/def:${FIXTURE_DEF}`, '/machine:x64', `/out:${lib}`]);
  return lib;
}

/** The lld-link flags every driver link in the tests uses. */
export const DRIVER_FLAGS = ['/nologo', '/driver', '/subsystem:native', '/entry:DriverEntry', '/nodefaultlib'];

/** Compiles a C snippet written into `outDir` to an x64 object with the bare clang-cl. */
export async function compileSnippet(name: string, code: string, outDir: string): Promise<string> {
  const src = join(outDir, `${name}.c`);
  writeFileSync(src, code);
  const obj = join(outDir, `${name}.obj`);
  await execa(requireTool('clang-cl'), ['/nologo', '/c', '/kernel', '--target=x86_64-pc-windows-msvc', `/Fo${obj}`, '--', src]);
  return obj;
}
