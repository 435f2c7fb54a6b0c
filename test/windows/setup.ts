import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import mainSetup from '../global-setup.js';
import { requireTool } from '../../src/toolchain/find-tool.js';
import { testTmp } from '../helpers/toolchain.js';
import { ensureNodeExe, ensurePrefix, NODE_EXE, runInCmd, startWineserver, stopWineserver, wine64, winPath } from './wine.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The Windows lane's globalSetup: the fixtures and scratch directory of the main suite, then
 * node.exe, the wine prefix, and hvci-build installed as a project installs it
 * (node_modules/hvci-build with its runtime dependencies), whose node_modules/.cache cannot
 * be made, so its caches go to %LOCALAPPDATA% as they do when the package directory is read-only.
 */
export default async function setup(): Promise<() => void> {
  const wine = wine64();
  if (wine === undefined) throw new Error('the Windows lane needs wine64: apt-get install wine64');
  const teardown = await mainSetup();
  const started = Date.now();
  await ensureNodeExe();
  await ensurePrefix(wine);
  await startWineserver(wine);
  const prepared = Date.now();
  // Wine's start-up, measured: one node.exe that does nothing (the wineserver is started here).
  const probe = await runInCmd(`"${winPath(NODE_EXE)}" -e "process.stdout.write(require('os').release())"`, { cwd: testTmp() });
  const release = probe.stdout.trim();
  if (probe.exitCode !== 0 || !release.startsWith('10.')) throw new Error(`node.exe under wine: exit ${probe.exitCode}, Windows ${release || '?'}: ${probe.stderr}`);
  const first = Date.now();
  await runInCmd(`"${winPath(NODE_EXE)}" -e 0`, { cwd: testTmp() });
  process.stderr.write(`windows lane: node.exe and prefix ready in ${prepared - started} ms; Windows ${release}; node.exe -e 0 under wine: first ${first - prepared} ms, then ${Date.now() - first} ms\n`);

  const project = join(testTmp(), 'win-project');
  const modules = join(project, 'node_modules');
  cpSync(join(ROOT, 'dist'), join(modules, 'hvci-build', 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(modules, 'hvci-build', 'package.json'));
  // Runtime dependencies only; typescript (an optional peer, for .ts configs) stays out: the configs here are JSON.
  const deps = (await execa('npm', ['ls', '--omit=dev', '--omit=peer', '--parseable', '--all'], { cwd: ROOT, reject: false })).stdout.split('\n').slice(1);
  for (const dir of deps) {
    const rel = relative(join(ROOT, 'node_modules'), dir);
    if (rel && !rel.startsWith('..') && !rel.startsWith('typescript')) cpSync(dir, join(modules, rel), { recursive: true });
  }
  writeFileSync(join(modules, '.cache'), 'a file, so no cache directory can be made here\n');
  mkdirSync(join(project, 'work'), { recursive: true });
  process.env.HVCI_WIN_BIN = join(modules, 'hvci-build', 'dist', 'bin', 'hvci-build.cjs');
  process.env.HVCI_WIN_LLVM = await buildRecorder(join(project, 'LLVM', 'bin'));
  return async () => {
    await stopWineserver(wine);
    teardown();
  };
}

/**
 * argv-recorder.c built by the real clang-cl and lld-link as LLVM\bin\clang-cl.exe: a Windows
 * program that stands where Windows LLVM would and records the command line the wrappers
 * gave it. Returns the directory.
 */
async function buildRecorder(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const here = join(ROOT, 'test', 'windows');
  const obj = join(dir, 'argv-recorder.obj');
  const lib = join(dir, 'kernel32.lib');
  await execa(requireTool('clang-cl'), ['--target=x86_64-pc-windows-msvc', '/nologo', '/c', '/GS-', '/O1', `/Fo${obj}`, '--', join(here, 'argv-recorder.c')]);
  await execa(requireTool('llvm-dlltool'), ['-m', 'i386:x86-64', '-d', join(here, 'kernel32.def'), '-l', lib]);
  await execa(requireTool('lld-link'), ['/nologo', '/entry:start', '/subsystem:console', '/nodefaultlib', `/out:${join(dir, 'clang-cl.exe')}`, obj, lib]);
  return dir;
}
