// Preloaded (node --require) into a measured child process: when it exits, writes its
// peak resident set size in KiB to the file HVCI_MEASURE_OUT names. A child that
// aborts writes nothing, which the runner reports as a failure.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const out = process.env.HVCI_MEASURE_OUT;
  if (out) writeFileSync(out, String(process.resourceUsage().maxRSS));
});
