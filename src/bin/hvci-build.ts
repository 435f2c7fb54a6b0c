#!/usr/bin/env node
// Sends each command to the bundle that holds it, so a run loads only what it needs, and
// runs it through V8's code cache (../cli/bundle-cache.ts says why).
import { runBundle } from '../cli/bundle-cache.js';

const WRAP = new Set(['link', 'cc', 'launch', 'run', 'build', 'init', 'doctor']);
const CHECK = new Set(['check', 'baseline', 'rules', 'explain']);
const argv = process.argv.slice(2);
// 'help <command>' goes to the bundle that holds the command.
const first = (argv[0] === 'help' ? argv[1] : argv[0]) ?? '';
const command = WRAP.has(first) || CHECK.has(first) ? first : 'other';
// A help page gets its own code-cache profile, so it does not stand for the command's run.
void runBundle(WRAP.has(command) ? 'wrap-main' : 'check-main', argv[0] === 'help' ? 'help' : command, argv, (s) => import(s));
