import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { hasOption, lastOption, type LinkArgs } from './args.js';

/**
 * The image lld-link writes: /out:; else the LIBRARY or NAME of a /def: file;
 * else the first input's name with .dll (/dll wins over /driver), .sys or .exe.
 */
export function linkOutputPath(parsed: LinkArgs, cwd: string): string | undefined {
  const out = lastOption(parsed, 'out');
  if (out?.value) return resolve(cwd, out.value);
  const ext = hasOption(parsed, 'dll') ? '.dll' : hasOption(parsed, 'driver') ? '.sys' : '.exe';
  const def = lastOption(parsed, 'def');
  if (def?.value) {
    const named = defOutputName(resolve(cwd, def.value));
    if (named) return resolve(cwd, extname(named) ? named : named + ext);
  }
  const first = parsed.inputs[0];
  if (!first) return undefined;
  return resolve(cwd, basename(first, extname(first)) + ext);
}

/** The output name a module-definition file sets with LIBRARY or NAME. */
function defOutputName(path: string): string | undefined {
  try {
    const m = /^\s*(?:LIBRARY|NAME)\s+"?([^"\s]+)"?/im.exec(readFileSync(path, 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}
