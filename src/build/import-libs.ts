import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { failure, firstLines, type BuildProblem } from '../problems.js';
import { runProcess } from '../process/run-process.js';
import type { Arch } from '../config/build-section.js';
import { isStale, stampAll, type BuildState } from './state.js';
import { TARGETS } from './targets.js';

export interface ToolPaths {
  clangCl: string;
  llvmLib: string;
  llvmDlltool: string;
}

/**
 * Import libraries from .def files: llvm-lib /def: for x64 and ARM64, and
 * llvm-dlltool -k for x86, where `Name@N` stdcall exports must come out
 * undecorated (llvm-lib cannot do that).
 */
export async function buildImportLib(def: string, arch: Arch, libDir: string, tools: () => ToolPaths, state: BuildState, cwd: string, onRun?: () => void): Promise<{ lib: string; ran: boolean }> {
  const lib = join(libDir, `${basename(def, extname(def))}.lib`);
  const command = arch === 'x86'
    ? ['llvm-dlltool', '-m', TARGETS.x86.dlltool, '-k', '-d', def, '-l', lib]
    : ['llvm-lib', '/nologo', `/def:${def}`, `/machine:${TARGETS[arch].machine}`, `/out:${lib}`];
  const key = command.join('\0');
  if (!isStale(state.steps[lib], key, lib)) return { lib, ran: false };
  mkdirSync(dirname(lib), { recursive: true });
  onRun?.();
  const t = tools();
  const tool = command[0] === 'llvm-dlltool' ? t.llvmDlltool : t.llvmLib;
  const r = await runProcess(tool, command.slice(1), { cwd, env: process.env, stdio: 'pipe' });
  if (r.exitCode !== 0) {
    const output = r.stderr || r.stdout;
    const problem = failure('lib-failed', { tool: basename(tool), exitCode: r.exitCode, def: relative(cwd, def) || def, output: firstLines(output) }, { file: def });
    throw new StepError(`${basename(tool)} failed for ${def}`, output, problem);
  }
  state.steps[lib] = { command: key, inputs: stampAll([def]) };
  return { lib, ran: true };
}

/** A failed build step: the tool's own output is printed, then one line; `problem` is what a report says. */
export class StepError extends Error {
  constructor(message: string, readonly output: string, readonly problem: BuildProblem) {
    super(message);
    this.name = 'StepError';
  }
}
