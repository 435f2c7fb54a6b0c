export const MAIN_HELP = `hvci-build: memory integrity (HVCI) checks for Windows kernel drivers

Usage:
  hvci-build check [options] <paths...>   check linked driver images
  hvci-build rules                        list the rules
  hvci-build explain <rule>               explain a rule and how to fix it
  hvci-build --version

Run 'hvci-build check --help' for the check options.
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
