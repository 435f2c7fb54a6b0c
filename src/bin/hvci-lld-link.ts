#!/usr/bin/env node
// Drop-in for lld-link (CMAKE_LINKER, cargo's linker = ...): hvci-build link.
import { runBundle } from '../cli/bundle-cache.js';

void runBundle('wrap-main', 'link', ['link', ...process.argv.slice(2)], (s) => import(s));
