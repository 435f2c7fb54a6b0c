import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../process/run-process.js';
import { snapshotDecoder } from '../callsites/iced.js';
import { checkImage } from '../check-image.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { FileResult } from '../findings.js';
import { expandResponseFiles } from '../cmdline/response-files.js';
import { quoteGnu, tokenizeWindows, type Quoting } from '../cmdline/tokenize.js';
import { resolveTool } from '../toolchain/resolve-tool.js';
import { hasOption, lastOption, readLinkArgs } from './args.js';
import { linkOutputPath } from './output-path.js';
import { applyLinkPolicy } from './policy.js';
import { lockOutput } from './output-lock.js';
import { receivedSignal, signalExitCode } from '../process/signals.js';
import { writingFile } from '../files/write-error.js';
import { rejectImage, removeStaleRejected, setAsideUnvalidated } from './reject.js';

export interface LinkOutcome {
  exitCode: number;
  /** Refused flags, each naming the rule: nothing was linked. */
  refused: string[];
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
  const expanded = expandResponseFiles([...fromEnv, ...argv], quoting, ctx.cwd).filter(
    (a) => !/^[-/]-?rsp-quoting[:=]/i.test(a),
  );
  const linker = ctx.linker ?? resolveTool('lld-link', ctx.config, ctx.env);
  // lld-link /lib is the librarian: no image, nothing to police or check.
  if (/^[-/]lib$/i.test(expanded[0] ?? '')) {
    outcome.exitCode = await runTool(linker, [...argv], ctx.cwd, ctx.env);
    return outcome;
  }
  const policy = applyLinkPolicy(expanded, ctx.cwd, ctx.config.link);
  outcome.notices = policy.notices;
  if (policy.errors.length > 0) {
    outcome.refused = policy.errors;
    outcome.exitCode = 2;
    return outcome;
  }
  const env = { ...ctx.env };
  // Their contents are in the command line now; lld-link must not add them twice.
  delete env.LINK;
  delete env._LINK_;
  const output = linkOutputPath(readLinkArgs(policy.args), ctx.cwd);
  outcome.output = output;
  // Link, validate and move aside under one lock: a concurrent link of the same output must not
  // validate (or move aside) this link's image as its own (output-lock.ts).
  const lock = output ? await lockOutput(output, (holder) => ctx.onWait?.(output, holder)) : undefined;
  try {
    return await linkAndValidate(outcome, linker, policy.args, env, ctx);
  } finally {
    lock?.release();
  }
}

/** Links, then validates the image; or moves aside what a failed or interrupted link left. */
async function linkAndValidate(outcome: LinkOutcome, linker: string, args: string[], env: NodeJS.ProcessEnv, ctx: LinkContext): Promise<LinkOutcome> {
  const output = outcome.output;
  const early = receivedSignal();
  if (early) {
    // Stopped before linking (maybe waiting for another link's lock): the output is not ours to touch.
    outcome.interrupted = early;
    outcome.exitCode = signalExitCode(early);
    return outcome;
  }
  const linked = await runTool(linker, args, ctx.cwd, env);
  const signal = receivedSignal();
  if (linked !== 0 || signal) {
    if (signal) outcome.interrupted = signal;
    outcome.exitCode = signal ? signalExitCode(signal) : linked;
    // Nothing unvalidated may stay where make or ninja would take it as up to date.
    if (output) outcome.setAside = setAsideUnvalidated(output, ctx.config.link.rejected);
    return outcome;
  }
  if (!output || !existsSync(output)) {
    outcome.missingOutput = true;
    outcome.exitCode = 2;
    return outcome;
  }
  const result = checkImage(output, {
    rules: ctx.config.rules,
    ...(ctx.config.minWindowsBuild !== undefined ? { minWindowsBuild: ctx.config.minWindowsBuild } : {}),
    callsites: ctx.config.callsites,
    pathMap: ctx.config.pathMap,
    // The wrappers are the CLI: they keep iced-x86's start-up snapshot in the cache directory.
    decoder: snapshotDecoder(),
  });
  outcome.result = result;
  if (result.findings.some((f) => f.severity === 'error')) {
    outcome.rejected = true;
    outcome.rejectedTo = rejectImage(output, ctx.config.link.rejected);
    outcome.exitCode = 1;
  } else {
    removeStaleRejected(output);
  }
  return outcome;
}

async function runTool(tool: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
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
    return (await runProcess(tool, finalArgs, { cwd, env, stdio: 'inherit' })).exitCode;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
