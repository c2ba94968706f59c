// Prints the closing "N passed, N failed" line of a CI run from vitest's JSON
// report, counting a failed typecheck/lint step or benchmark as a failure,
// and exits non-zero when anything failed.
import { existsSync, readFileSync } from 'node:fs';

const [report, testStatus, benchStatus, pytestReport] = process.argv.slice(2);
let passed = 0;
let failed = 0;
if (report && existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = (json.numFailedTests ?? 0) + (json.numFailedTestSuites ?? 0);
}
if (pytestReport && existsSync(pytestReport)) {
  // <testsuite ... tests="68" failures="0" errors="0" skipped="0">
  const suite = /<testsuite\b[^>]*>/.exec(readFileSync(pytestReport, 'utf8'))?.[0] ?? '';
  const count = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const bad = count('failures') + count('errors');
  passed += count('tests') - bad - count('skipped');
  failed += bad;
}
if (Number(testStatus) !== 0 && failed === 0) failed = 1; // typecheck or lint failed before vitest ran
if (Number(benchStatus) !== 0) failed += 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
