import { availableParallelism } from 'node:os';
import { mkdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { ResolvedConfig } from '../config/schema.js';
import { globFiles } from '../files/glob.js';
import { runLink, type LinkContext, type LinkOutcome } from '../link/run-link.js';
import { linkResults } from '../link/link-results.js';
import type { StepResults } from '../problems.js';
import { configOrigin } from '../config/config-origin.js';
import { resolveTool } from '../toolchain/resolve-tool.js';
import { compileIfStale, type CompileJob } from './compile.js';
import { buildImportLib, StepError, type ToolPaths } from './import-libs.js';
import { runPool } from './pool.js';
import { commandKey, isStale, loadState, saveState, stampAll } from './state.js';
import { TARGETS } from './targets.js';

export interface BuildOptions {
  jobs?: number;
  /** Called before each step that runs a tool. */
  onStep?: (kind: 'CC' | 'LIB' | 'LINK', what: string, done: number, total: number) => void;
  /** Told once when another link of the same output holds its lock. */
  onWait?: LinkContext['onWait'];
  /** Keep the linker's error output for a report (it is shown as well). */
  capture?: boolean;
  /** Warnings fail the image as errors do (check --strict). */
  strict?: boolean;
}

export interface BuildOutcome {
  output: string;
  compiled: number;
  linked: boolean;
  /** The link and its validation, when the link ran. */
  link: LinkOutcome | undefined;
  /** What a report says of the image: this build's link, or the last one's when nothing was rebuilt. */
  results: StepResults | undefined;
  exitCode: number;
}

/**
 * hvci-build build: compiles the configured sources in parallel, makes import
 * libraries from .def files, links with the HVCI policy and validates the
 * image. Incremental: each step records its command and the size and time of
 * its inputs (for objects, every header the compiler reported), and a step
 * runs again only when one of them changed or its output is missing.
 */
export async function runBuild(config: ResolvedConfig, options: BuildOptions = {}): Promise<BuildOutcome> {
  const build = config.build;
  if (!build) {
    throw new ConfigError(config.filepath ?? 'hvci.config.*', 'build', config.filepath ? 'no build section in the config' : 'no config file found (run hvci-build init)');
  }
  const cwd = config.dir;
  const sources = globFiles(build.sources, cwd);
  if (sources.length === 0) throw new ConfigError(config.filepath!, 'build.sources', `matches no files in ${cwd}`);
  const outDir = resolve(cwd, build.outDir);
  const objDir = join(outDir, 'obj', build.arch);
  const statePath = join(outDir, '.hvci-build-state.json');
  const output = resolve(cwd, build.output);
  const state = loadState(statePath);

  // Each tool is looked for when a step first needs it: a build with no .def needs no llvm-lib.
  const found = new Map<string, string>();
  const tool = (name: 'clang-cl' | 'llvm-lib' | 'llvm-dlltool'): string => {
    let path = found.get(name);
    if (!path) found.set(name, (path = resolveTool(name, config, process.env)));
    return path;
  };
  const getTools = (): ToolPaths => ({
    get clangCl() { return tool('clang-cl'); },
    get llvmLib() { return tool('llvm-lib'); },
    get llvmDlltool() { return tool('llvm-dlltool'); },
  });

  const importLibs: string[] = [];
  const results = (state.results ??= {});
  try {
    for (const def of build.defs) {
      const r = await buildImportLib(resolve(cwd, def), build.arch, join(objDir, 'lib'), getTools, state, cwd, () =>
        options.onStep?.('LIB', relative(cwd, resolve(cwd, def)), 1, 1),
      );
      importLibs.push(r.lib);
    }
    const jobs: CompileJob[] = sources.map((source) => ({ source, object: objectPath(source, cwd, objDir) }));
    let done = 0;
    let compiled = 0;
    await runPool(jobs, options.jobs ?? availableParallelism(), async (job) => {
      const ran = await compileIfStale(job, build, () => getTools().clangCl, state, cwd);
      done++;
      if (ran) {
        compiled++;
        options.onStep?.('CC', relative(cwd, job.source), done, jobs.length);
      }
    });

    const libraries = build.libraries.map((l) => resolve(cwd, l));
    const linkArgs = [
      '/nologo',
      '/driver',
      '/subsystem:native',
      `/entry:${build.entry}`,
      '/nodefaultlib',
      `/machine:${TARGETS[build.arch].machine}`,
      ...jobs.map((j) => j.object),
      ...libraries,
      ...importLibs,
      `/out:${output}`,
      // A PDB beside the driver, for source lines in findings. /debug alone turns off
      // /opt:ref and /opt:icf (as link.exe does): keep the image the same as without it.
      ...(build.debug ? ['/debug', '/opt:ref', '/opt:icf'] : []),
      ...build.ldflags,
    ];
    const linkKey = commandKey([...linkArgs, JSON.stringify(config.rules), String(config.minWindowsBuild), JSON.stringify(config.link), String(config.callsites), String(options.strict === true)]);
    // Up to date, with the results a report needs (a state from before they were kept links again).
    if (compiled === 0 && !isStale(state.steps[output], linkKey, output) && results[output]) {
      return { output, compiled, linked: false, link: undefined, results: results[output], exitCode: 0 };
    }
    options.onStep?.('LINK', relative(cwd, output), 1, 1);
    mkdirSync(dirname(output), { recursive: true });
    // A refused ldflag is shown at its line of the config.
    const origins = linkArgs.map((_, i) => {
      const k = i - (linkArgs.length - build.ldflags.length);
      return k >= 0 && config.filepath ? configOrigin(config.filepath, `build.ldflags[${k}]`, build.ldflags[k]!) : undefined;
    });
    const link = await runLink(linkArgs, {
      cwd,
      env: process.env,
      config,
      origins,
      ...(options.capture ? { capture: true } : {}),
      ...(options.strict ? { strict: true } : {}),
      ...(options.onWait ? { onWait: options.onWait } : {}),
    });
    if (link.exitCode === 0) {
      state.steps[output] = { command: linkKey, inputs: stampAll([...jobs.map((j) => j.object), ...libraries, ...importLibs]) };
    } else {
      delete state.steps[output];
    }
    const linked = linkResults(link);
    if (linked) results[output] = linked;
    else delete results[output];
    return { output, compiled, linked: true, link, results: linked, exitCode: link.exitCode };
  } catch (err) {
    if (err instanceof StepError) results[output] = { files: [], problems: [err.problem] };
    throw err;
  } finally {
    saveState(statePath, state);
  }
}

/**
 * build/obj/<arch>/<path of the source under the project>.obj, the source's
 * extension kept (x.c and x.cpp differ); a source outside the project goes
 * under external/<hash of its directory>/, so two util.c never share an object.
 */
function objectPath(source: string, cwd: string, objDir: string): string {
  const rel = relative(cwd, source);
  const inside = !rel.startsWith('..') && !isAbsolute(rel);
  const name = inside ? rel : `external/${commandKey([dirname(source)]).slice(0, 12)}/${basename(source)}`;
  return join(objDir, `${name}.obj`);
}
