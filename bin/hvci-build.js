#!/usr/bin/env node
// Sends each command to the bundle that holds it, so a run loads only what it needs.
const WRAP = new Set(['link', 'cc', 'launch', 'run', 'build', 'init', 'doctor']);
const argv = process.argv.slice(2);
const { run } = await import(WRAP.has(argv[0]) ? '../dist/bundle/wrap-main.js' : '../dist/bundle/check-main.js');
await run(argv);
