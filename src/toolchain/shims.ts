import { win32 } from 'node:path';

/** A shim `hvci-build run` puts on PATH: its file name and text, for the host's shell. */
export interface Shim {
  name: string;
  text: string;
  /** Whether the file needs the executable bit (a POSIX script; Windows runs a .cmd by its extension). */
  executable: boolean;
}

/**
 * The shim for `tool` that runs `node bin launch --kind=kind real "args"`: a sh script, or on
 * Windows a .cmd, which cmd, PowerShell, make and anything searching PATHEXT find before the
 * real clang-cl.exe further down PATH.
 */
export function shimFor(tool: string, kind: 'cc' | 'link', command: { node: string; bin: string; real: string }, platform: NodeJS.Platform = process.platform): Shim {
  if (platform === 'win32') {
    // Inside double quotes cmd still expands %VAR%: a literal % is %% in a batch file. A path cannot hold a '"'.
    const q = (s: string): string => `"${s.replace(/%/g, '%%')}"`;
    return { name: `${tool}.cmd`, text: `@${q(command.node)} ${q(command.bin)} launch --kind=${kind} ${q(command.real)} %*\r\n`, executable: false };
  }
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return { name: tool, text: `#!/bin/sh\nexec ${q(command.node)} ${q(command.bin)} launch --kind=${kind} ${q(command.real)} "$@"\n`, executable: true };
}

/** The name a wrapped tool's file has on PATH, as a shim's name: `clang-cl-19`, or `clang-cl` for `clang-cl.exe` on Windows. */
export function wrappedToolName(file: string, platform: NodeJS.Platform = process.platform): string | undefined {
  const m = (platform === 'win32' ? /^((?:clang-cl|lld-link)(?:-\d+)?)\.exe$/i : /^((?:clang-cl|lld-link)-\d+)$/).exec(file);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * A command Node can start only through cmd on Windows: a .cmd or .bat file, named, or
 * found on PATH where no .exe or .com of that name is (Node looks only for those; npm is npm.cmd).
 */
export function isBatchCommand(command: string, dirs: readonly string[], exists: (path: string) => boolean): boolean {
  if (/\.(cmd|bat)$/i.test(command)) return true;
  if (/[\\/]/.test(command) || /\.(exe|com)$/i.test(command)) return false;
  const anyOf = (exts: string[]): boolean => dirs.some((dir) => exts.some((ext) => exists(win32.join(dir, command + ext))));
  return !anyOf(['.com', '.exe']) && anyOf(['.bat', '.cmd']);
}

/** The key PATH has in env: Windows names it Path, and a copied environment keeps that spelling. */
export function pathKey(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'win32') return 'PATH';
  return Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'Path';
}

