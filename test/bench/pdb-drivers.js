// Two drivers linked with /debug, their PDBs beside them: one with call-site findings
// (test/fixtures/src/callsite-pool.c), whose check reads the PDB for source lines, and a
// clean one (the template's driver), whose check must not read it.
import { cpSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { requireTool } from '../../dist/toolchain/find-tool.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function build(dir, name, source, include, cflags) {
  const out = join(dir, `${name}.sys`);
  if (existsSync(out)) return out;
  const work = join(dir, `${name}-build`);
  mkdirSync(work, { recursive: true });
  await execa(requireTool('llvm-lib'), ['/nologo', `/def:${join(root, 'test/fixtures/lib/ntoskrnl.def')}`, '/machine:x64', '/out:nt.lib'], { cwd: work });
  cpSync(source, join(work, 'driver.c'));
  await execa(requireTool('clang-cl'), ['/nologo', '/c', '/kernel', '/GS-', '/O2', '/Z7', ...cflags, '--target=x86_64-pc-windows-msvc', `/I${include}`, '/Fodriver.obj', '--', 'driver.c'], { cwd: work });
  const flags = ['/nologo', '/driver', '/subsystem:native', '/entry:DriverEntry', '/nodefaultlib', '/debug', '/opt:ref'];
  await execa(requireTool('lld-link'), [...flags, 'driver.obj', 'nt.lib', `/out:${name}.sys`], { cwd: work });
  renameSync(join(work, `${name}.pdb`), join(dir, `${name}.pdb`));
  renameSync(join(work, `${name}.sys`), out);
  return out;
}

export async function pdbDrivers(cacheDir) {
  const dir = join(cacheDir, 'pdb');
  mkdirSync(dir, { recursive: true });
  const findings = await build(dir, 'findings', join(root, 'test/fixtures/src/callsite-pool.c'), join(root, 'test/fixtures/include'), ['/UPOOL_NX_OPTIN_AUTO']);
  const clean = await build(dir, 'clean', join(root, 'templates/driver/src/driver.c'), join(root, 'templates/driver/include'), []);
  return { findings, clean };
}
