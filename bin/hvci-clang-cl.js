#!/usr/bin/env node
// Drop-in for clang-cl (CMAKE_C_COMPILER, a Meson cross file): hvci-build cc.
import { run } from '../dist/bundle/wrap-main.js';

await run(['cc', ...process.argv.slice(2)]);
