// Prints the closing "N passed, N failed" line of a CI run: npm test's counts
// (.ci/out/test-summary.json, written by scripts/run-tests.mjs) plus one per
// benchmark, and exits non-zero when anything failed or nothing passed.
// Usage: node .ci/summary.mjs <test-summary.json> <npm test status> <benchmarks run> <benchmarks failed>
import { existsSync, readFileSync } from 'node:fs';
import { combineCiCounts, formatTotals } from '../scripts/test-runner.mjs';

const [summary, testStatus, benchRan, benchFailed] = process.argv.slice(2);
const tests = summary && existsSync(summary) ? JSON.parse(readFileSync(summary, 'utf8')) : null;
const benchmarks = { ran: Number(benchRan ?? 0), failed: Number(benchFailed ?? 0) };
const totals = combineCiCounts(tests, Number(testStatus), benchmarks);
console.log(
  `npm test: ${tests ? `${tests.passed} passed and ${tests.failed} failed` : `no counts (exit ${testStatus})`}; benchmarks: ${benchmarks.failed} of ${benchmarks.ran} failed`,
);
console.log(formatTotals(totals));
process.exit(totals.failed > 0 || totals.passed === 0 ? 1 : 0);
