import { execa } from 'execa';
import { expect } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../dist/bin/hvci-build.cjs', import.meta.url));

/** The Node that runs the CLI: this one, or another LTS's in its lane (npm run test:node-lts). */
export const NODE = process.env.HVCI_TEST_NODE ?? process.execPath;

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds it first) the way a user would. */
export async function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const r = await execa(NODE, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { NO_COLOR: '1', ...options.env },
    reject: false,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** This checkout packed as npm would publish it (dist/ as built), into `dest`; the tarball's path. */
export async function packThisCheckout(dest: string): Promise<string> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', dest], { cwd: root });
  return join(dest, r.stdout.trim().split('\n').pop()!);
}

/** One line on stderr, starting with the tool's name, no stack trace; returns it. */
export function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).toMatch(/^hvci-build: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}
