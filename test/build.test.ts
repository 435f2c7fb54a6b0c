import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImage } from '../src/check-image.js';
import { parseHeaders } from '../src/pe/headers.js';
import { bufferSource } from '../src/pe/source.js';
import { runCli } from './helpers/cli.js';
import { copyExample } from './helpers/examples.js';
import { tempDir } from './helpers/toolchain.js';

// Tools that cannot run: a build that tries to compile or link with them fails.
const NO_TOOLS = { HVCI_CLANG_CL: '/nonexistent/clang-cl', HVCI_LLD_LINK: '/nonexistent/lld-link', HVCI_LLVM_LIB: '/nonexistent/llvm-lib' };

const touch = (path: string): void => {
  const later = new Date(Date.now() + 5000);
  utimesSync(path, later, later);
};

describe('init then build, from an empty directory', () => {
  it('builds a driver that passes, then does nothing, then rebuilds what a change touches', async () => {
    const dir = tempDir('init');
    const init = await runCli(['init'], { cwd: dir });
    expect(init.exitCode, init.stderr).toBe(0);
    for (const f of ['hvci.config.ts', 'src/driver.c', 'include/km.h', 'ntoskrnl.def', '.github/workflows/hvci.yml', 'cmake/clang-cl-windows.cmake', 'CMakeLists.txt', '.gitignore']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const name = dir.split('/').pop()!.replace(/[^A-Za-z0-9_]/g, '_');
    const out = join(dir, 'build', `${name}.sys`);

    const first = await runCli(['build'], { cwd: dir });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/1 compiled\), memory integrity checks passed/);
    expect(checkImage(out).findings.filter((f) => f.severity !== 'note')).toEqual([]);

    // Nothing changed: neither compiler nor linker runs (they could not: the paths are bogus).
    const again = await runCli(['build'], { cwd: dir, env: NO_TOOLS });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/is up to date/);

    // A header the source includes changed: the source compiles again and the driver relinks.
    touch(join(dir, 'include', 'km.h'));
    const header = await runCli(['build'], { cwd: dir });
    expect(header.stderr).toMatch(/1 compiled/);
    // The source changed.
    writeFileSync(join(dir, 'src', 'driver.c'), readFileSync(join(dir, 'src', 'driver.c'), 'utf8') + '\nint Extra(void) { return 7; }\n');
    const source = await runCli(['build'], { cwd: dir });
    expect(source.stderr).toMatch(/1 compiled/);
    // The config changed (a define): rebuild.
    writeFileSync(join(dir, 'hvci.config.ts'), readFileSync(join(dir, 'hvci.config.ts'), 'utf8').replace("arch: 'x64',", "arch: 'x64',\n    defines: ['EXTRA=1'],"));
    const config = await runCli(['build'], { cwd: dir });
    expect(config.stderr).toMatch(/1 compiled/);
    // The driver was deleted: relink only.
    const { rmSync } = await import('node:fs');
    rmSync(out);
    const relink = await runCli(['build'], { cwd: dir });
    expect(relink.stderr).toMatch(/0 compiled/);
    expect(existsSync(out)).toBe(true);
  });

  it('a compile error fails the build with the compiler message, and the next build retries', async () => {
    const dir = tempDir('broken');
    await runCli(['init', '--name', 'broken'], { cwd: dir });
    writeFileSync(join(dir, 'src', 'extra.c'), 'int Broken(void) { return ; }\n');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/extra\.c.*(non-void|return)/);
    expect(r.stderr).toMatch(/hvci-build build: compiling .*extra\.c failed/);
    writeFileSync(join(dir, 'src', 'extra.c'), 'int Fixed(void) { return 1; }\n');
    const fixed = await runCli(['build'], { cwd: dir });
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    // driver.c compiled in the failed run and is not compiled again.
    expect(fixed.stderr).toMatch(/\(1 compiled\)/);
  });

  it('an executable pool type passed at a call site fails the build; --no-callsites skips that analysis', async () => {
    const dir = tempDir('execpool');
    await runCli(['init', '--name', 'execpool'], { cwd: dir });
    const src = join(dir, 'src', 'driver.c');
    writeFileSync(src, readFileSync(src, 'utf8').replace('ExAllocatePoolWithTag(NonPagedPoolNx,', 'ExAllocatePoolWithTag(NonPagedPool,'));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error exec-pool-type: /);
    expect(existsSync(join(dir, 'build', 'execpool.sys'))).toBe(false);
    const off = await runCli(['build', '--no-callsites'], { cwd: dir });
    expect(off.exitCode, off.stderr).toBe(0);
  });

  it('init refuses to overwrite files', async () => {
    const dir = tempDir('init2');
    writeFileSync(join(dir, 'hvci.config.ts'), 'export default {};\n');
    const r = await runCli(['init'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/would overwrite hvci\.config\.ts/);
  });
});

describe('build for each architecture', () => {
  for (const [arch, machine] of [['x86', 0x14c], ['arm64', 0xaa64]] as const) {
    it(`${arch}`, async () => {
      const dir = tempDir(`arch-${arch}`);
      await runCli(['init', '--name', 'multi'], { cwd: dir });
      const cfg = join(dir, 'hvci.config.ts');
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace("arch: 'x64'", `arch: '${arch}'`));
      if (arch === 'x86') {
        // stdcall exports carry their argument size; llvm-dlltool -k drops it from the import names.
        writeFileSync(join(dir, 'ntoskrnl.def'), 'LIBRARY ntoskrnl.exe\nEXPORTS\n  ExAllocatePoolWithTag@12\n  ExFreePoolWithTag@8\n  DbgPrint\n');
      }
      const r = await runCli(['build'], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      const out = join(dir, 'build', 'multi.sys');
      expect(parseHeaders(bufferSource(readFileSync(out))).machine).toBe(machine);
      expect(checkImage(out).findings.filter((f) => f.severity !== 'note')).toEqual([]);
    });
  }
});

describe('examples', () => {
  it('hello-wdm builds and passes', async () => {
    const dir = copyExample('hello-wdm');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('legacy-driver fails with one explained refusal per problem', async () => {
    const dir = copyExample('legacy-driver');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/merging \.rdata into \.text .*rule iat-in-exec/);
    expect(r.stderr).toMatch(/\/section:\.data,rwe makes section \.data writable and executable \(rule wx-section\)/);
    expect(r.stderr).toMatch(/\/nxcompat:no turns off NX_COMPAT.*rule nx-compat/);
    expect(existsSync(join(dir, 'build', 'legacy-driver.sys'))).toBe(false);
  });

  it('a build config error names the file and key', async () => {
    const dir = tempDir('badbuild');
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, 'hvci.config.json'), '{"build":{"sources":["*.c"],"arch":"mips"}}');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/hvci\.config\.json: build\.arch: must be one of x64, x86, arm64/);
  });
});

describe('found in review', () => {
  it('globs with a wildcard in a directory part, absolute sources, same-named sources, and an output outside outDir', async () => {
    const dir = tempDir('globs');
    await runCli(['init', '--name', 'globs'], { cwd: dir });
    const { mkdirSync, renameSync } = await import('node:fs');
    mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
    renameSync(join(dir, 'src', 'driver.c'), join(dir, 'src', 'sub', 'driver.c'));
    const common = tempDir('common');
    for (const [d, fn] of [['a', 'UtilA'], ['b', 'UtilB']] as const) {
      mkdirSync(join(common, d));
      writeFileSync(join(common, d, 'util.c'), `int ${fn}(void) { return 1; }\n`);
    }
    writeFileSync(join(dir, 'src', 'sub', 'use.c'), 'int UtilA(void); int UtilB(void);\nint Use(void) { return UtilA() + UtilB(); }\n');
    const cfg = join(dir, 'hvci.config.ts');
    writeFileSync(cfg, readFileSync(cfg, 'utf8')
      .replace("sources: ['src/**/*.c']", `sources: ['src/*/*.c', '${join(common, 'a', 'util.c')}', '${common}/b/*.c']`)
      .replace("output: 'build/globs.sys'", "output: 'bin/globs.sys'")
      .replace("arch: 'x64',", "arch: 'x64',\n    ldflags: ['/include:Use'],"));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\(4 compiled\)/);
    expect(existsSync(join(dir, 'bin', 'globs.sys'))).toBe(true);
  });

  it('a build with no .def needs no llvm-lib', async () => {
    const dir = tempDir('nodef');
    await runCli(['init', '--name', 'nodef'], { cwd: dir });
    await runCli(['build'], { cwd: dir });
    const cfg = join(dir, 'hvci.config.ts');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace("defs: ['ntoskrnl.def'],", "libraries: ['build/obj/x64/lib/ntoskrnl.lib'],"));
    const r = await runCli(['build'], { cwd: dir, env: { HVCI_LLVM_LIB: '/nonexistent/llvm-lib', HVCI_LLVM_DLLTOOL: '/nonexistent/dlltool' } });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('two projects with equal config paths tails and times never share the cached .ts config', async () => {
    const make = async (sources: string) => {
      const root = tempDir('tscache');
      const dir = join(root, 'workspace', 'drivers', 'same');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir, { recursive: true });
      await runCli(['init', '--name', 'same'], { cwd: dir });
      const cfg = join(dir, 'hvci.config.ts');
      writeFileSync(cfg, readFileSync(cfg, 'utf8').replace("sources: ['src/**/*.c']", sources));
      utimesSync(cfg, new Date(2020, 0, 1), new Date(2020, 0, 1));
      return dir;
    };
    const a = await make("sources: ['src/**/*.c']");
    const b = await make("sources: ['nothing/*.c']");
    expect((await runCli(['build'], { cwd: a })).exitCode).toBe(0);
    const rb = await runCli(['build'], { cwd: b });
    expect(rb.exitCode).toBe(2);
    expect(rb.stderr).toMatch(/build\.sources: matches no files/);
  });

  it('build options in any order, and --help', async () => {
    const dir = tempDir('opts');
    await runCli(['init', '--name', 'opts'], { cwd: dir });
    const r = await runCli(['build', '-j', '2', '--format', 'json', '--verbose'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await runCli(['build', '--help'])).stdout).toMatch(/Usage: hvci-build build/);
  });
});
