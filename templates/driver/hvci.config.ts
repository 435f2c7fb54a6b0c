import type { HvciConfig } from 'hvci-build';

// hvci-build reads this file: `build` for `hvci-build build`, the rest for
// every check (build, link wrapper, check).
export default {
  // Straddling relocations are errors for Windows 10 1507-1607; set '1703' or later if you never run there.
  minWindowsVersion: '1607',
  rules: {
    // 'affected-ddi-import': 'off',
  },
  build: {
    sources: ['src/**/*.c'],
    include: ['include'],
    defs: ['ntoskrnl.def'],
    arch: 'x64',
    output: 'build/{{name}}.sys',
  },
} satisfies HvciConfig;
