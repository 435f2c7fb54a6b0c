export const MAIN_HELP = `hvci-build: memory integrity (HVCI) checks for Windows kernel drivers

Usage:
  hvci-build check [options] <paths...>   check linked driver images
  hvci-build build [options]              build the driver the config describes, then check it
  hvci-build init [dir]                   create a driver project that builds with no edits
  hvci-build cc <clang-cl arguments>      clang-cl with HVCI-safe flags (/Gy, POOL_NX_OPTIN_AUTO)
  hvci-build link <lld-link arguments>    lld-link with the HVCI policy; the image is checked
  hvci-build launch <tool> <arguments>    cc or link for a launcher (CMAKE_C_COMPILER_LAUNCHER)
  hvci-build run -- <build command>       run a build with clang-cl and lld-link wrapped
  hvci-build doctor                       show the toolchain found and what is missing
  hvci-build rules                        list the rules
  hvci-build explain <rule>               explain a rule and how to fix it
  hvci-build --version

Wrapper options (before the tool's arguments): --format F, --report FILE,
--hvci-config FILE, --verbose, --no-callsites.
Run 'hvci-build check --help' or 'hvci-build build --help' for their options.
`;

export const CHECK_HELP = `Usage: hvci-build check [options] <paths...>

Paths are files (always checked), directories (searched recursively for PE
images by their MZ/PE signature) and globs.

Options:
  -f, --format <fmt>        text (default), json, sarif, github
  -o, --output <file>       write the report to a file instead of stdout
      --strict              treat warnings as errors
      --rule <id=severity>  override a rule for this run (off, note, warning, error); repeatable
      --min-windows <ver>   lowest Windows version supported (1607, 1703, 10.0.15063, ...)
  -c, --config <file>       use this config file instead of searching for one
  -j, --jobs <n>            worker threads (default: all cores for large batches)
      --no-progress         no progress display on a terminal
      --no-callsites        skip call-site analysis of the code (the exec-* and
                            unknown-pool-type rules); header rules only
  -h, --help                show this help

Exit codes: 0 no error-level finding, 1 an error-level finding,
2 usage error, broken config, or an input that could not be read or is malformed.
`;

export const BUILD_HELP = `Usage: hvci-build build [options]

Builds the driver described by the config's build section (hvci-build init
writes one), in parallel and incrementally, links it with the HVCI policy
and checks the image.

Options:
  -c, --config <file>       use this config file instead of searching for one
  -j, --jobs <n>            parallel compiles (default: all cores)
  -f, --format <fmt>        findings as text (default), json, sarif, github
      --report <file>       write the findings to a file
      --verbose             show each step and the injected or translated flags
      --no-callsites        skip the call-site analysis
  -h, --help                show this help
`;
