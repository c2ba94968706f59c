// The exposition through Prometheus's own linter: `promtool check metrics`
// (Debian's prometheus package; `npm test` installs it, see
// scripts/ensure-system-packages.mjs) reads the text format from stdin and
// prints one line per problem (a counter without `_total`, a gauge with it,
// a non-base unit, a missing HELP, …); exit 0 and no output means clean.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from './create-metrics.js';
import { populateEveryMetric } from './testing/every-metric.js';

beforeAll(() => {
  if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'the metrics lint needs promtool: node scripts/ensure-system-packages.mjs prometheus (or sudo apt-get install -y prometheus)',
    );
  }
});

function checkMetrics(text: string) {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

describe('promtool check metrics', () => {
  it('passes the exposition with every metric populated, process metrics included, without a complaint', async () => {
    const metrics = createMetrics();
    populateEveryMetric(metrics);
    const text = await metrics.expose();
    // Every differad metric has samples, so promtool lints names, types and label sets of real series.
    expect(text).toMatch(/^differad_run_heldout_miou_ratio\{run="demo"\} 0\.41$/m);
    expect(checkMetrics(text)).toEqual({ status: 0, output: '' });
  });

  it('is a real lint: it rejects a gauge named like a counter', () => {
    const bad = checkMetrics('# HELP differad_bad_total A gauge.\n# TYPE differad_bad_total gauge\ndifferad_bad_total 1\n');
    expect(bad.status).not.toBe(0);
    expect(bad.output).toContain('non-counter metrics should not have "_total" suffix');
  });
});
