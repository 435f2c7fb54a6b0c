import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { execa } from 'execa';
import { condition, interpolate, type ExpressionContext, type Value } from './actions-expressions.js';
import { parseYamlSubset, type Yaml } from './yaml-subset.js';

/**
 * Runs the `run:` steps of a composite action or of a workflow job the way the GitHub runner
 * does: `${{ }}` expanded in env, with, working-directory and the script; `if:` evaluated
 * (success() unless a status function is named); each script run by bash from a file, with
 * GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY files read back after it;
 * continue-on-error honoured. `uses:` steps are not run: they are recorded with their
 * expanded `with:`, for the test to assert, and succeed unless `failUses` names them. A composite action's inputs reach its scripts only
 * through expressions (the runner sets no INPUT_* variables for composite actions), so neither
 * does this.
 */
export interface StepRecord {
  name: string;
  id: string | undefined;
  uses: string | undefined;
  with: Record<string, string> | undefined;
  outcome: 'success' | 'failure' | 'skipped';
  exitCode: number | undefined;
  /** stdout and stderr, interleaved. */
  output: string;
}

export interface RunResult {
  status: 'success' | 'failure';
  steps: StepRecord[];
  /** steps.<id>.outputs */
  outputs: Record<string, Record<string, string>>;
  /** The action's declared outputs (runAction only). */
  actionOutputs: Record<string, string>;
  summary: string;
  /** Directories the steps added with GITHUB_PATH. */
  path: string[];
}

export interface RunOptions {
  /** github.workspace: the repository checkout; steps run here unless working-directory says otherwise. */
  workspace: string;
  /** The github context's fields (event_name, repository, actor, event, ...), over defaults for a push. */
  github?: { [key: string]: Value };
  /** The process environment the runner starts steps with (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** `uses:` steps that fail, as upload-sarif does in a repository without code scanning. */
  failUses?: RegExp;
}

type Step = { [key: string]: Yaml };

export function readYaml(file: string): { [key: string]: Yaml } {
  const doc = parseYamlSubset(readFileSync(file, 'utf8'), file);
  if (!isMap(doc)) throw new Error(`${file}: not a mapping`);
  return doc;
}

/** The composite action in `actionDir`/action.yml, with these inputs (the rest take their defaults). */
export async function runAction(actionDir: string, inputs: Record<string, string>, options: RunOptions): Promise<RunResult> {
  const action = readYaml(join(actionDir, 'action.yml'));
  const runs = asMap(action.runs, 'runs');
  if (runs.using !== 'composite') throw new Error(`action.yml: runs.using is ${String(runs.using)}, not composite`);
  const declared = isMap(action.inputs) ? action.inputs : {};
  for (const name of Object.keys(inputs)) if (!(name in declared)) throw new Error(`action.yml has no input '${name}'`);
  const base = baseContexts(options, actionDir);
  const ctx = (): ExpressionContext => ({ contexts: base, jobStatus: 'success', workspace: options.workspace });
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const fallback = isMap(spec) && typeof spec.default === 'string' ? interpolate(spec.default, ctx()) : '';
    values[name] = inputs[name] ?? fallback;
  }
  base.inputs = values;
  const result = await runSteps(asList(runs.steps, 'runs.steps'), base, options, { composite: true, actionDir });
  const outputs = isMap(action.outputs) ? action.outputs : {};
  for (const [name, spec] of Object.entries(outputs)) {
    const value = isMap(spec) && typeof spec.value === 'string' ? spec.value : '';
    result.actionOutputs[name] = interpolate(value, { contexts: { ...base, steps: stepsContext(result) }, jobStatus: result.status, workspace: options.workspace });
  }
  return result;
}

/** One job of a workflow file, its steps in order. */
export async function runWorkflowJob(file: string, job: string, options: RunOptions): Promise<RunResult> {
  const workflow = readYaml(file);
  const spec = asMap(asMap(workflow.jobs, 'jobs')[job], `jobs.${job}`);
  const base = baseContexts(options);
  const env = { ...stringMap(workflow.env), ...stringMap(spec.env) };
  return runSteps(asList(spec.steps, `jobs.${job}.steps`), base, options, { composite: false, env });
}

function baseContexts(options: RunOptions, actionPath?: string): { [name: string]: Value } {
  const temp = mkdtempSync(join(options.workspace, '..', 'runner-temp-'));
  return {
    github: {
      event_name: 'push',
      repository: 'owner/driver',
      actor: 'developer',
      ref: 'refs/heads/main',
      token: 'token-for-tests',
      workspace: options.workspace,
      event: {},
      ...(actionPath ? { action_path: actionPath } : {}),
      ...options.github,
    },
    runner: { temp, os: 'Linux' },
    env: {},
    inputs: {},
    steps: {},
  };
}

async function runSteps(
  steps: Yaml[],
  contexts: { [name: string]: Value },
  options: RunOptions,
  how: { composite: boolean; actionDir?: string; env?: Record<string, string> },
): Promise<RunResult> {
  const result: RunResult = { status: 'success', steps: [], outputs: {}, actionOutputs: {}, summary: '', path: [] };
  const temp = String((contexts.runner as { temp: string }).temp);
  const addedEnv: Record<string, string> = { ...how.env };
  for (const [index, raw] of steps.entries()) {
    const step = asMap(raw, `step ${index + 1}`);
    const id = typeof step.id === 'string' ? step.id : undefined;
    const name = typeof step.name === 'string' ? step.name : String(step.run ?? step.uses ?? `step ${index + 1}`);
    const ctx: ExpressionContext = {
      contexts: { ...contexts, env: { ...addedEnv }, steps: stepsContext(result) },
      jobStatus: result.status,
      workspace: options.workspace,
    };
    const record: StepRecord = { name, id, uses: undefined, with: undefined, outcome: 'skipped', exitCode: undefined, output: '' };
    result.steps.push(record);
    if (id) result.outputs[id] = {};
    if (!condition(typeof step.if === 'string' ? step.if : 'success()', ctx)) continue;
    const stepEnv = Object.fromEntries(Object.entries(stringMap(step.env)).map(([k, v]) => [k, interpolate(v, ctx)]));

    if (typeof step.uses === 'string') {
      record.uses = step.uses;
      record.with = Object.fromEntries(Object.entries(stringMap(step.with)).map(([k, v]) => [k, interpolate(v, ctx)]));
      record.outcome = options.failUses?.test(step.uses) ? 'failure' : 'success';
      if (record.outcome === 'failure' && step['continue-on-error'] !== 'true') result.status = 'failure';
      continue;
    }
    if (typeof step.run !== 'string') throw new Error(`step '${name}': neither run nor uses`);
    const shell = typeof step.shell === 'string' ? step.shell : how.composite ? undefined : 'default';
    if (shell !== 'bash' && shell !== 'default') throw new Error(`step '${name}': shell ${String(shell)} (the runner here runs bash only; composite steps must name their shell)`);

    const files = mkdtempSync(join(temp, '_step-'));
    const file = (f: string): string => {
      writeFileSync(join(files, f), '');
      return join(files, f);
    };
    const runnerFiles = { GITHUB_OUTPUT: file('output'), GITHUB_ENV: file('env'), GITHUB_PATH: file('path'), GITHUB_STEP_SUMMARY: file('summary') };
    const script = join(files, 'script.sh');
    writeFileSync(script, interpolate(step.run, ctx));
    const baseEnv = options.env ?? process.env;
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_EVENT_NAME: String((contexts.github as { event_name: string }).event_name),
      GITHUB_REPOSITORY: String((contexts.github as { repository: string }).repository),
      RUNNER_TEMP: temp,
      ...(how.actionDir ? { GITHUB_ACTION_PATH: how.actionDir } : {}),
      ...addedEnv,
      ...stepEnv,
      ...runnerFiles,
      PATH: [...[...result.path].reverse(), baseEnv.PATH ?? ''].join(delimiter),
    };
    const cwd = typeof step['working-directory'] === 'string' ? resolve(options.workspace, interpolate(step['working-directory'], ctx)) : options.workspace;
    // GitHub's command lines: `bash --noprofile --norc -eo pipefail {0}` for shell: bash, `bash -e {0}` by default.
    const args = shell === 'bash' ? ['--noprofile', '--norc', '-eo', 'pipefail', script] : ['-e', script];
    const r = await execa('bash', args, { cwd, env, extendEnv: false, reject: false, all: true, stdin: 'ignore' });
    record.exitCode = r.exitCode ?? -1;
    record.output = String(r.all ?? '');
    record.outcome = record.exitCode === 0 ? 'success' : 'failure';

    if (id) result.outputs[id] = readKeyValues(runnerFiles.GITHUB_OUTPUT);
    Object.assign(addedEnv, readKeyValues(runnerFiles.GITHUB_ENV));
    result.path.push(...readFileSync(runnerFiles.GITHUB_PATH, 'utf8').split('\n').filter(Boolean));
    result.summary += readFileSync(runnerFiles.GITHUB_STEP_SUMMARY, 'utf8');
    if (record.outcome === 'failure' && step['continue-on-error'] !== 'true') result.status = 'failure';
  }
  return result;
}

function stepsContext(result: RunResult): { [id: string]: Value } {
  const out: { [id: string]: Value } = {};
  for (const s of result.steps) {
    if (!s.id) continue;
    out[s.id] = { outputs: result.outputs[s.id] ?? {}, outcome: s.outcome, conclusion: s.outcome };
  }
  return out;
}

/** `name=value` lines and `name<<DELIMITER` … `DELIMITER` blocks, as GITHUB_OUTPUT and GITHUB_ENV hold them. */
export function readKeyValues(file: string): Record<string, string> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    if (heredoc && !line.includes('=')) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`${file}: ${heredoc[1]} has no closing ${heredoc[2]}`);
      out[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`${file}: not name=value: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The step whose name matches, for assertions. */
export function stepNamed(r: RunResult, name: RegExp): StepRecord {
  const s = r.steps.find((x) => name.test(x.name));
  if (!s) throw new Error(`no step ${name}: ${r.steps.map((x) => x.name).join(', ')}`);
  return s;
}

const isMap = (v: Yaml | undefined): v is { [key: string]: Yaml } => typeof v === 'object' && v !== null && !Array.isArray(v);

function asMap(v: Yaml | undefined, what: string): Step {
  if (!isMap(v)) throw new Error(`${what}: not a mapping`);
  return v;
}

function asList(v: Yaml | undefined, what: string): Yaml[] {
  if (!Array.isArray(v)) throw new Error(`${what}: not a list`);
  return v;
}

function stringMap(v: Yaml | undefined): Record<string, string> {
  if (v === undefined || v === null) return {};
  const m = asMap(v, 'env/with');
  return Object.fromEntries(Object.entries(m).map(([k, val]) => {
    if (typeof val !== 'string') throw new Error(`${k}: not a scalar`);
    return [k, val];
  }));
}
