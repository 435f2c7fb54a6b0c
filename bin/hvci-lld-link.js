#!/usr/bin/env node
// Drop-in for lld-link (CMAKE_LINKER, cargo's linker = ...): hvci-build link.
import { run } from '../dist/bundle/wrap-main.js';

await run(['link', ...process.argv.slice(2)]);
