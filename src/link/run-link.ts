import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { runProcess } from '../process/run-process.js';
import { snapshotDecoder } from '../callsites/iced.js';
import { checkImage } from '../check-image.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { FileResult } from '../findings.js';
import { expandPlaced, type ArgOrigin } from '../cmdline/response-files.js';
import { failure, firstLines, type BuildProblem } from '../problems.js';
import { refusalProblem } from './refusals.js';
import { displayPath } from '../report/paths.js';
import { quoteGnu, tokenizeWindows, type Quoting } from '../cmdline/tokenize.js';
import { resolveTool } from '../toolchain/resolve-tool.js';
import { hasOption, lastOption, readLinkArgs } from './args.js';
import { linkOutputPath } from './output-path.js';
import { applyLinkPolicy } from './policy.js';
import { lockOutput } from './output-lock.js';
import { receivedSignal, signalExitCode } from '../process/signals.js';
import { writingFile } from '../files/write-error.js';
import { adopt, adoptionOf, type Adopted, type Adoption } from './adoption.js';
import { rejectImage, removeStaleRejected, setAsideUnvalidated } from './reject.js';

export interface LinkOutcome {
  exitCode: number;
  /** Refused flags, each naming the rule and where the flag came from: nothing was linked. */
  refused: BuildProblem[];
  /** The link failed, was interrupted, or left no image: what a report says about it. */
  failure?: BuildProblem;
  notices: string[];
  output: string | undefined;
  /** The validation of the linked image, when there was one. */
  result: FileResult | undefined;
  /** Where a rejected image went (undefined when deleted or not rejected). */
  rejectedTo: string | undefined;
  rejected: boolean;
  /** The link succeeded but its image is not where lld-link's naming rules put it: nothing was checked. */
  missingOutput?: boolean;
  /** The signal that interrupted the link: the image, if any, was not validated. */
  interrupted?: NodeJS.Signals;
  /** The link failed or was interrupted and left a file at the output path: where it went ('deleted' if deleted). */
  setAside?: string;
}

export interface LinkContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  config: ResolvedConfig;
  /** The real lld-link, when the caller knows it (launcher form). */
  linker?: string;
  /** Told once when another link of the same output holds its lock. */
  onWait?: (output: string, holder: string) => void;
  /** Where each argument of argv came from (a config key), when not the command line. */
  origins?: readonly (ArgOrigin | undefined)[];
  /** Keep lld-link's error output for a report (it is shown as well). */
  capture?: boolean;
  /** Warnings reject the image as errors do. */
  strict?: boolean;
}

// Past this many characters of arguments, pass them in a response file.
const MAX_COMMAND_LINE = 100_000;

/**
 * hvci-build link: reads the lld-link command line as lld-link would (LINK and
 * _LINK_, response files with Windows quoting unless --rsp-quoting says
 * otherwise), applies the policy, links, validates the image, and moves a bad
 * image out of the way.
 */
export async function runLink(argv: readonly string[], ctx: LinkContext): Promise<LinkOutcome> {
  const outcome: LinkOutcome = { exitCode: 0, refused: [], notices: [], output: undefined, result: undefined, rejectedTo: undefined, rejected: false };
  const first = readLinkArgs(argv);
  const quoting: Quoting = lastOption(first, 'rsp-quoting')?.value === 'posix' ? 'gnu' : 'windows';
  const fromEnv = hasOption(first, 'lldignoreenv')
    ? []
    : [...tokenizeWindows(ctx.env._LINK_ ?? ''), ...tokenizeWindows(ctx.env.LINK ?? '')];
  const placed = expandPlaced(
    [...fromEnv.map((arg) => ({ arg })), ...argv.map((arg, i) => ({ arg, ...(ctx.origins?.[i] ? { origin: ctx.origins[i] } : {}) }))],
    quoting,
    ctx.cwd,
  ).filter((a) => !/^[-/]-?rsp-quoting[:=]/i.test(a.arg));
  const expanded = placed.map((a) => a.arg);
  const linker = ctx.linker ?? resolveTool('lld-link', ctx.config, ctx.env);
  // lld-link /lib is the librarian: no image, nothing to police or check.
  if (/^[-/]lib$/i.test(expanded[0] ?? '')) {
    outcome.exitCode = (await runTool(linker, [...argv], ctx.cwd, ctx.env)).exitCode;
    return outcome;
  }
  const policy = applyLinkPolicy(expanded, ctx.cwd, ctx.config.link);
  outcome.notices = policy.notices;
  // The policy rewrites flags, never /out: the output is known even when nothing is linked.
  const output = linkOutputPath(readLinkArgs(expanded), ctx.cwd);
  outcome.output = output;
  if (policy.refusals.length > 0) {
    outcome.refused = policy.refusals.map((r) => {
      const origin = r.index !== undefined ? placed[r.index]?.origin : r.object !== undefined ? { file: resolve(ctx.cwd, r.object) } : undefined;
      return refusalProblem(r, origin);
    });
    outcome.exitCode = 2;
    return outcome;
  }
  // The config's baseline is read before the link: a broken one stops it here, not after it.
  const adoption = adoptionOf(ctx.config);
  const env = { ...ctx.env };
  // Their contents are in the command line now; lld-link must not add them twice.
  delete env.LINK;
  delete env._LINK_;
  // Link, validate and move aside under one lock: a concurrent link of the same output must not
  // validate (or move aside) this link's image as its own (output-lock.ts).
  const lock = output ? await lockOutput(output, (holder) => ctx.onWait?.(output, holder)) : undefined;
  try {
    return await linkAndValidate(outcome, linker, policy.args, env, ctx, adoption);
  } finally {
    lock?.release();
  }
}

/** Links, then validates the image; or moves aside what a failed or interrupted link left. */
async function linkAndValidate(outcome: LinkOutcome, linker: string, args: string[], env: NodeJS.ProcessEnv, ctx: LinkContext, adoption: Adoption): Promise<LinkOutcome> {
  const output = outcome.output;
  const image = output ? displayPath(output, ctx.cwd) : 'the image';
  const early = receivedSignal();
  if (early) {
    // Stopped before linking (maybe waiting for another link's lock): the output is not ours to touch.
    outcome.interrupted = early;
    outcome.exitCode = signalExitCode(early);
    outcome.failure = failure('interrupted', { signal: early, image });
    return outcome;
  }
  const linked = await runTool(linker, args, ctx.cwd, env, ctx.capture === true);
  const signal = receivedSignal();
  if (linked.exitCode !== 0 || signal) {
    if (signal) outcome.interrupted = signal;
    outcome.exitCode = signal ? signalExitCode(signal) : linked.exitCode;
    outcome.failure = signal
      ? failure('interrupted', { signal, image })
      : failure('link-failed', { tool: basename(linker), exitCode: linked.exitCode, image, output: firstLines(linked.stderr) });
    // Nothing unvalidated may stay where make or ninja would take it as up to date.
    if (output) outcome.setAside = setAsideUnvalidated(output, ctx.config.link.rejected);
    return outcome;
  }
  if (!output || !existsSync(output)) {
    outcome.missingOutput = true;
    outcome.failure = failure('output-missing', { image });
    outcome.exitCode = 2;
    return outcome;
  }
  let adopted: Adopted;
  try {
    const result = checkImage(output, {
      rules: ctx.config.rules,
      ...(ctx.config.minWindowsBuild !== undefined ? { minWindowsBuild: ctx.config.minWindowsBuild } : {}),
      callsites: ctx.config.callsites,
      pathMap: ctx.config.pathMap,
      ...(ctx.strict ? { strict: true } : {}),
      // The wrappers are the CLI: they keep iced-x86's start-up snapshot in the cache directory.
      decoder: snapshotDecoder(),
    });
    // The config's suppressions and baseline set known findings aside, as in check.
    adopted = adopt(result, adoption, ctx.cwd);
    outcome.result = adopted.result;
    if (adopted.suppressed + adopted.inBaseline > 0) {
      outcome.notices.push(`allowed by config: ${adopted.suppressed} finding(s) suppressed and ${adopted.inBaseline} in the baseline (${ctx.config.filepath ?? 'config'})`);
    }
  } catch (err) {
    // Not judged (a bug in the check): the image must not stay
    // where make or ninja would take it as up to date.
    setAsideUnvalidated(output, ctx.config.link.rejected);
    throw err;
  }
  if (adopted.result.findings.some((f) => f.severity === 'error')) {
    outcome.rejected = true;
    outcome.rejectedTo = rejectImage(output, ctx.config.link.rejected);
    outcome.exitCode = 1;
  } else {
    removeStaleRejected(output);
  }
  return outcome;
}

async function runTool(tool: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, capture = false): Promise<{ exitCode: number; stderr: string }> {
  const length = args.reduce((n, a) => n + a.length + 1, 0);
  let dir: string | undefined;
  let finalArgs = args;
  try {
    if (length > MAX_COMMAND_LINE) {
      // A private directory per link, so parallel links never share a file.
      dir = writingFile(tmpdir(), () => mkdtempSync(join(tmpdir(), 'hvci-link-')));
      const rsp = join(dir, 'link.rsp');
      writingFile(rsp, () => writeFileSync(rsp, args.map(quoteGnu).join('\n')));
      finalArgs = ['--rsp-quoting=posix', `@${rsp}`];
    }
    return await runProcess(tool, finalArgs, { cwd, env, stdio: capture ? 'tee' : 'inherit' });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
