import { mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { diagnosticLocation, failure, firstLines } from '../problems.js';
import { ccInjectedFlags } from '../cc/run-cc.js';
import { runProcess } from '../process/run-process.js';
import { clangClArgs } from '../toolchain/find-tool.js';
import type { BuildConfig } from '../config/build-section.js';
import { parseDepfile } from './depfile.js';
import { StepError } from './import-libs.js';
import { isStale, stampAll, type BuildState } from './state.js';
import { TARGETS } from './targets.js';

export interface CompileJob {
  source: string;
  object: string;
}

/** The clang-cl arguments for one source: kernel mode, HVCI defaults, dependency file. */
export function compileArgs(job: CompileJob, build: BuildConfig, cwd: string): string[] {
  const args = [
    '/nologo',
    '/c',
    '/kernel',
    '/GS-',
    '/O2',
    `--target=${TARGETS[build.arch].triple}`,
    // CodeView line tables in each object, for the PDB the link writes.
    ...(build.debug ? ['/Z7'] : []),
    ...build.include.map((dir) => `/I${resolve(cwd, dir)}`),
    ...build.defines.map((d) => `/D${d}`),
    ...build.cflags,
  ];
  return [
    ...ccInjectedFlags(args, cwd),
    ...args,
    `/Fo${job.object}`,
    '/clang:-MD',
    `/clang:-MF${job.object}.d`,
    // clang-cl reads an absolute Unix path such as /work/x.c as an option: end the options first.
    '--',
    job.source,
  ];
}

/** Compiles one source if it or anything it includes changed; returns whether the compiler ran. */
export async function compileIfStale(job: CompileJob, build: BuildConfig, clangCl: () => string, state: BuildState, cwd: string): Promise<boolean> {
  const args = compileArgs(job, build, cwd);
  const key = args.join('\0');
  if (!isStale(state.steps[job.object], key, job.object)) return false;
  mkdirSync(dirname(job.object), { recursive: true });
  const compiler = clangCl();
  const r = await runProcess(compiler, [...clangClArgs(compiler), ...args], { cwd, env: process.env, stdio: 'pipe' });
  if (r.exitCode !== 0) {
    const output = r.stdout + r.stderr;
    const args = { tool: basename(compiler), exitCode: r.exitCode, source: relative(cwd, job.source) || job.source, output: firstLines(output) };
    throw new StepError(`compiling ${job.source} failed`, output, failure('compile-failed', args, diagnosticLocation(output, cwd) ?? { file: job.source }));
  }
  if (r.stdout.trim() || r.stderr.trim()) process.stderr.write(r.stdout + r.stderr);
  let deps = [job.source];
  try {
    deps = parseDepfile(readFileSync(`${job.object}.d`, 'utf8')).map((d) => resolve(cwd, d));
  } catch {
    // no dependency file: the source alone decides
  }
  state.steps[job.object] = { command: key, inputs: stampAll(deps) };
  return true;
}
