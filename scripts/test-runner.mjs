// The logic behind `npm test` (scripts/run-tests.mjs): run every suite even
// when one fails, count each suite's tests from its report, and print one
// closing "N passed, N failed" line. Types: test-runner.d.mts.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * Counts of vitest's JSON report (jest's format): a test file that failed
 * without a failed test (it did not load) counts as one failure.
 */
export function countVitestReport(json) {
  const files = Array.isArray(json.testResults) ? json.testResults : [];
  const broken = files.filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  return {
    passed: json.numPassedTests ?? 0,
    failed: (json.numFailedTests ?? 0) + broken,
    skipped: (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0),
  };
}

/**
 * Counts of a JUnit XML report (pytest --junitxml), summed over its
 * `<testsuite tests failures errors skipped>` elements.
 */
export function countJunitReport(xml) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const [suite] of xml.matchAll(/<testsuite\b[^>]*>/g)) {
    const count = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
    const failed = count('failures') + count('errors');
    counts.passed += count('tests') - failed - count('skipped');
    counts.failed += failed;
    counts.skipped += count('skipped');
  }
  return counts;
}

/**
 * One JUnit report from several (e.g. one schemathesis run per server): every
 * `<testsuite>` element of each, renamed to its report's name, inside one
 * `<testsuites>`, so {@link countJunitReport} sums them all.
 */
export function mergeJunitReports(reports) {
  const suites = reports.flatMap(({ name, xml }) =>
    [...xml.matchAll(/<testsuite\b[^>]*?(?:\/>|>[^]*?<\/testsuite>)/g)].map(([suite]) => {
      const escaped = name.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
      return suite.replace(/^<testsuite\b([^>]*)/, (_, attrs) => `<testsuite name="${escaped}"${attrs.replace(/\sname="[^"]*"/, '')}`);
    }),
  );
  return `<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>\n`;
}

/**
 * A suite's result from its exit status and its report's text (null when it
 * wrote none). A check without a report (typecheck, lint) counts as one
 * failure when it fails and nothing when it passes; a test suite whose
 * report is missing or unreadable, or that failed with no failed test in its
 * report, counts as one failure more than its report says.
 */
export function toSuiteResult(suite, status, reportText) {
  const base = { name: suite.name, status, passed: 0, failed: 0, skipped: 0, note: '' };
  if (!suite.report) return { ...base, failed: status === 0 ? 0 : 1, note: status === 0 ? 'ok' : `failed (exit ${status})` };
  let counts;
  try {
    if (reportText === null) throw new Error('no report');
    counts = suite.report.kind === 'vitest' ? countVitestReport(JSON.parse(reportText)) : countJunitReport(reportText);
  } catch {
    return { ...base, failed: 1, note: `no readable report (exit ${status})` };
  }
  const exitOnly = status !== 0 && counts.failed === 0;
  const note = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${exitOnly ? ` (exit ${status})` : ''}`;
  return { ...base, ...counts, failed: counts.failed + (exitOnly ? 1 : 0), note };
}

/** The closing line. */
export function formatTotals({ passed, failed }) {
  return `${passed} passed, ${failed} failed`;
}

/**
 * The counts of a CI run: npm test's (null when it wrote none) plus one per
 * benchmark. npm test failing with no failure counted (its pretest failed,
 * or it never wrote its counts) is one failure.
 */
export function combineCiCounts(tests, testStatus, benchmarks) {
  const counted = tests ?? { passed: 0, failed: 0 };
  const testFailed = testStatus !== 0 && counted.failed === 0 ? 1 : counted.failed;
  return { passed: counted.passed + benchmarks.ran - benchmarks.failed, failed: testFailed + benchmarks.failed };
}

/** Passed and failed over all suites. */
export function sumResults(results) {
  return results.reduce((sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed }), { passed: 0, failed: 0 });
}

/**
 * A line per suite, then the closing "N passed, N failed" line.
 */
export function formatSummary(results) {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = results.map((r) => `${r.failed > 0 ? '✗' : '✓'} ${r.name.padEnd(width)}  ${r.note}  (${r.seconds.toFixed(0)} s)`);
  return [...lines, formatTotals(sumResults(results))];
}

/** The last non-empty line of a command's output: what a failed preparation says about its cause. */
export function lastLine(text) {
  return (
    (text ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .pop() ?? ''
  );
}

/**
 * The result of a suite whose preparation (e.g. making the live vLLM venv)
 * failed: the suite did not run, and that is one failure, with the
 * preparation's last line as the cause.
 */
export function toPrepareFailure(suite, status, output) {
  const cause = lastLine(output);
  return {
    name: suite.name,
    status,
    passed: 0,
    failed: 1,
    skipped: 0,
    note: `not run: ${suite.prepare.what} failed (exit ${status})${cause ? `: ${cause}` : ''}`,
  };
}

/**
 * Runs the suites one after another, each to its end whatever the ones
 * before did, with their output on this process's, and returns their results.
 * A suite's old report is removed first, so a crash cannot pass for a run.
 * A suite with `prepare` runs that command first (its stderr is captured,
 * then printed); when it fails the suite is not run and counts one failure.
 */
export function runSuites(suites, options = {}) {
  const log = options.log ?? ((line) => console.log(line));
  return suites.map((suite) => {
    log(`\n=== ${suite.name}: ${suite.command.join(' ')}`);
    if (suite.report) rmSync(suite.report.path, { force: true });
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    if (suite.prepare) {
      const [command, ...args] = suite.prepare.command;
      const prep = spawnSync(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', 'inherit', 'pipe'],
        encoding: 'utf8',
      });
      const output = `${prep.stderr ?? ''}${prep.error ? `${prep.error.message}\n` : ''}`;
      if (output.trim() !== '') log(output.trimEnd());
      const status = prep.status ?? 1;
      if (status !== 0 || prep.error) return { ...toPrepareFailure(suite, status, output), seconds: seconds() };
    }
    const [command, ...args] = suite.command;
    const run = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: 'inherit' });
    const status = run.status ?? 1;
    if (run.error) log(`${suite.name}: ${run.error.message}`);
    const reportText = suite.report && existsSync(suite.report.path) ? readFileSync(suite.report.path, 'utf8') : null;
    return { ...toSuiteResult(suite, status, reportText), seconds: seconds() };
  });
}
