// Prints the plain closing line "N passed, N failed" from vitest's JSON report,
// for CI logs that read a closing line rather than vitest's own summary.
import { readFileSync } from 'node:fs';

const r = JSON.parse(readFileSync(new URL('./.cache/vitest-results.json', import.meta.url), 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = r.numFailedTests > 0 || r.numTotalTests === 0 ? 1 : 0;
