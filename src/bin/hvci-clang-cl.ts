#!/usr/bin/env node
// Drop-in for clang-cl (CMAKE_C_COMPILER, a Meson cross file): hvci-build cc.
import { runBundle } from '../cli/bundle-cache.js';

void runBundle('wrap-main', 'cc', ['cc', ...process.argv.slice(2)], (s) => import(s));
