import { basename, extname, resolve } from 'node:path';
import { hasOption, lastOption, type LinkArgs } from './args.js';

/** The image lld-link writes: /out:, else the first input's name with .sys, .dll or .exe. */
export function linkOutputPath(parsed: LinkArgs, cwd: string): string | undefined {
  const out = lastOption(parsed, 'out');
  if (out?.value) return resolve(cwd, out.value);
  const first = parsed.inputs.find((i) => /\.(obj|o)$/i.test(i));
  if (!first) return undefined;
  const ext = hasOption(parsed, 'driver') ? '.sys' : hasOption(parsed, 'dll') ? '.dll' : '.exe';
  return resolve(cwd, basename(first, extname(first)) + ext);
}
