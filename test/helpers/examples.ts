import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './toolchain.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A private copy of the examples and templates/, laid out as in the
 * repository (examples share hello-wdm's source and the template's header and
 * .def), without anything a previous build left; returns the named example.
 */
export function copyExample(name: string): string {
  const root = tempDir(name);
  const noBuild = (src: string): boolean => !/\/(build|out)(\/|$)/.test(src.slice(ROOT.length));
  cpSync(join(ROOT, 'examples'), join(root, 'examples'), { recursive: true, filter: noBuild });
  cpSync(join(ROOT, 'templates'), join(root, 'templates'), { recursive: true });
  return join(root, 'examples', name);
}
