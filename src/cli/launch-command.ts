import { basename } from 'node:path';
import { ccCommand } from './cc-command.js';
import { UsageError } from './errors.js';
import { linkCommand } from './link-command.js';

/**
 * hvci-build launch <tool> [args]: the launcher form for build systems that
 * put a launcher in front of the real tool (CMAKE_C_COMPILER_LAUNCHER,
 * CMAKE_C_LINKER_LAUNCHER), and what `hvci-build run` shims call.
 */
export async function launchCommand(argv: string[]): Promise<number> {
  // `hvci-build run` shims say which tool they stand for: a configured path may have any name.
  const forced = /^--kind=(cc|link)$/.exec(argv[0] ?? '')?.[1] as 'cc' | 'link' | undefined;
  const [tool, ...rest] = forced ? argv.slice(1) : argv;
  if (!tool) throw new UsageError('usage: hvci-build launch <clang-cl|lld-link path> [arguments]');
  const kind = forced ?? toolKind(tool);
  if (kind === 'cc') return ccCommand(rest, tool);
  if (kind === 'link') return linkCommand(rest, tool);
  throw new UsageError(`launch: '${tool}' is neither clang-cl nor lld-link`);
}

export function toolKind(tool: string): 'cc' | 'link' | undefined {
  const name = basename(tool).toLowerCase().replace(/\.exe$/, '');
  if (/^clang-cl(-\d+)?$/.test(name) || name === 'cl') return 'cc';
  if (/^lld-link(-\d+)?$/.test(name) || name === 'link') return 'link';
  return undefined;
}
