/** Every command, for 'did you mean' (the bundles hold only their own). */
export const COMMAND_NAMES: readonly string[] = ['check', 'baseline', 'build', 'init', 'cc', 'link', 'launch', 'run', 'doctor', 'rules', 'explain', 'help'];

/** The exit codes, in every command's help; `one` says what exit code 1 means for it, if anything. */
function exitCodes(one: string | undefined, signals = false): string {
  return `Exit codes:
  0  ${one ? 'success: no error-level finding' : 'success'}
${one ? `  1  ${one}\n` : ''}  2  usage error, broken config, or an input that matched nothing, could not be
     read or is malformed
  3  internal error in hvci-build (a bug: please report it)
${signals ? '  128+N  stopped by signal N (130 for SIGINT)\n' : ''}`;
}

export const MAIN_HELP = `hvci-build: memory integrity (HVCI) checks for Windows kernel drivers

Usage:
  hvci-build check [options] <paths...>   check linked driver images
  hvci-build baseline [options] [paths]   record today's findings; check then fails on new ones
  hvci-build build [options]              build the driver the config describes, then check it
  hvci-build init [dir]                   create a driver project that builds with no edits
  hvci-build cc <clang-cl arguments>      clang-cl with HVCI-safe flags (/Gy, POOL_NX_OPTIN_AUTO)
  hvci-build link <lld-link arguments>    lld-link with the HVCI policy; the image is checked
  hvci-build launch <tool> <arguments>    cc or link for a launcher (CMAKE_C_COMPILER_LAUNCHER)
  hvci-build run -- <build command>       run a build with clang-cl and lld-link wrapped
  hvci-build doctor                       show the toolchain found and what is missing
  hvci-build rules                        list the rules
  hvci-build explain <rule>               explain a rule and how to fix it
  hvci-build help <command>               the same as <command> --help
  hvci-build --version

Wrapper options (before the tool's arguments): --format F, --report FILE,
--include-notes, --hvci-config FILE, --verbose, --no-callsites. The report holds
the findings, refused flags and failed steps of every link of a build.
Run 'hvci-build help check' or 'hvci-build help build' for their options.

${exitCodes('an error-level finding, or a build step failed', true)}`;

export const CHECK_HELP = `Usage: hvci-build check [options] <paths...>

Paths are files (always checked), directories (searched recursively for PE
images by their MZ/PE signature) and globs. A directory or glob that finds no
PE image is an error unless --allow-empty; searches skip *.rejected images.

Options:
  -f, --format <fmt>        text (default), json, sarif, github
  -o, --output <file>       write the report to a file instead of stdout (also --report)
                            (missing parent directories are created)
      --quiet               report errors only
      --max-warnings <n>    exit 1 when there are more than n warnings
      --include-notes       notes as GitHub annotations and SARIF results too
      --allow-empty         a directory or glob that finds nothing is no error
      --color, --no-color   force colour on or off (default: on a terminal,
                            off with NO_COLOR, on with FORCE_COLOR)
      --strict              treat warnings as errors
      --rule <id=severity>  override a rule for this run (off, note, warning, error); repeatable
      --min-windows <ver>   lowest Windows version supported (1607, 1703, 10.0.15063, ...)
  -c, --config <file>       use this config file instead of searching for one
  -j, --jobs <n>            worker threads (default: all cores for large batches)
      --no-progress         no progress display on a terminal
      --no-callsites        skip call-site analysis of the code (the exec-* and
                            unknown-pool-type rules); header rules only
      --path-map <from=to>  source paths of the build machine starting with
                            'from' (in the PDB) are under 'to' here; repeatable
      --baseline <file>     fail only on findings the baseline does not hold;
                            report the ones it holds that are gone (fixed)
      --write-baseline <file>  record this run's findings as the baseline
      --print-config <file> print the configuration a check of <file> uses
  -h, --help                show this help

${exitCodes('an error-level finding, or more warnings than --max-warnings')}`;

export const BASELINE_HELP = `Usage: hvci-build baseline [check options] [paths...]

Checks the paths (default: the image the config's build section makes) and
records every finding in the baseline file: --write-baseline (or --baseline)
<file>, else the config's \`baseline\`, else hvci-baseline.json. Commit it; \`check\` then
fails only on findings it does not hold (the config's \`baseline\` key, or
--baseline <file>), and lists the ones it holds that are gone as fixed.
Findings are matched by rule, image path (relative to the baseline file),
section, function and arguments, not by address, so a rebuild keeps them.

${exitCodes(undefined)}`;

export const BUILD_HELP = `Usage: hvci-build build [options]

Builds the driver described by the config's build section (hvci-build init
writes one), in parallel and incrementally, links it with the HVCI policy
and checks the image.

Options:
  -c, --config <file>       use this config file instead of searching for one
  -j, --jobs <n>            parallel compiles (default: all cores)
  -f, --format <fmt>        findings as text (default), json, sarif, github
  -o, --output <file>       write the report to a file (also --report); it says
                            what the last build of the image found, refused or
                            failed on, even when nothing was rebuilt
      --include-notes       notes as GitHub annotations and SARIF results too
      --quiet               report errors only
      --max-warnings <n>    exit 1 when the image has more than n warnings
      --strict              treat warnings as errors (the image is set aside)
      --rule <id=severity>  override a rule for this build; repeatable
      --min-windows <ver>   lowest Windows version supported (1607, 1703, ...)
      --color, --no-color   force colour on or off in the build log
      --verbose             show each step and the injected or translated flags
      --no-callsites        skip the call-site analysis
  -h, --help                show this help

${exitCodes('an error-level finding (the image is set aside), a step failed, or more warnings\n     than --max-warnings', true)}`;

export const RUN_HELP = `Usage: hvci-build run [options] -- <build command> [arguments]

Runs the command with clang-cl, lld-link and their versioned names on PATH
pointing at hvci-build's wrappers.

Options (passed to the wrappers as HVCI_FORMAT, HVCI_REPORT, ...):
  --format <fmt>, --report <file>, --include-notes, --hvci-config <file>,
  --verbose, --no-callsites
The report holds every link's findings and refusals, every failed compile or
link, and the build command's exit code when it failed.

It exits with the build command's exit code (2 when it cannot start); the
wrappers it calls exit with these:

${exitCodes('an error-level finding (the image is set aside), or a step failed', true)}`;

export const RULES_HELP = `Usage: hvci-build rules [--format text|json]

Lists the rules: id, default severity and summary (text), or every rule's
metadata as a JSON array (id, name, defaultSeverity, summary, reference,
securitySeverity).

${exitCodes(undefined)}`;

export const EXPLAIN_HELP = `Usage: hvci-build explain <rule>

Explains a rule: why it matters and how to fix what it finds.

${exitCodes(undefined)}`;

export const INIT_HELP = `Usage: hvci-build init [dir] [--name NAME] [--force]

Creates a driver project (config, source, header, .def, CMake files, CI workflow)
that \`hvci-build build\` builds with no edits. An existing .gitignore and
package.json are merged into, not overwritten: package.json gets hvci-build in
devDependencies (CI installs it from the lockfile with npm ci) and the npm
scripts hvci:build and hvci:check.

${exitCodes(undefined)}`;
