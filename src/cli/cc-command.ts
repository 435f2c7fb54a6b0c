import { runCc } from '../cc/run-cc.js';
import { loadConfig } from '../config/load-config.js';
import { takeWrapperOptions } from './wrapper-options.js';

/** hvci-build cc <clang-cl arguments> */
export async function ccCommand(argv: string[], compiler?: string): Promise<number> {
  const cwd = process.cwd();
  const { options, rest } = takeWrapperOptions(argv, process.env);
  const config = await loadConfig(cwd, options.config);
  return runCc(rest, { cwd, env: process.env, config, verbose: options.verbose, ...(compiler ? { compiler } : {}) });
}
