import { delimiter, resolve } from 'node:path';
import type { ResolvedConfig } from '../config/schema.js';
import { findTool, type ToolName } from './find-tool.js';
import { missingToolMessage } from './install-hint.js';
import { pathKey } from './shims.js';

/** The variable `hvci-build run` sets to its shim directory, so wrappers never find themselves. */
export const SHIM_DIR_ENV = 'HVCI_SHIM_DIR';

export class ToolNotFoundError extends Error {
  constructor(readonly tool: ToolName) {
    super(missingToolMessage(tool));
    this.name = 'ToolNotFoundError';
  }
}

/** PATH without the shim directory of an enclosing `hvci-build run`. */
export function envWithoutShims(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const shim = env[SHIM_DIR_ENV];
  if (!shim) return env;
  const key = pathKey(env);
  const path = (env[key] ?? '')
    .split(delimiter)
    .filter((d) => d !== '' && resolve(d) !== resolve(shim))
    .join(delimiter);
  return { ...env, [key]: path };
}

/** A tool's path: the config's toolchain entry, else findTool (for clang-cl it may be clang: see clangClArgs). */
export function resolveTool(name: ToolName, config: Pick<ResolvedConfig, 'toolchain' | 'dir'> | undefined, env: NodeJS.ProcessEnv): string {
  const configured = config?.toolchain[name];
  if (configured) return resolve(config.dir, configured);
  const found = findTool(name, envWithoutShims(env));
  if (!found) throw new ToolNotFoundError(name);
  return found;
}
