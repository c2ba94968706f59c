import type { StepMetrics } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import { renderRunCharts } from './run-charts.js';
import { renderLineChart } from './svg-charts.js';

const row = (step: number, values: Record<string, number | null>): StepMetrics => ({ step, weightVersion: step + 1, at: 1_700_000_000_000 + step, values });

describe('run charts', () => {
  it('draws a point per step, a ± std band, sparse eval points and stacked time bars', () => {
    const rows = [0, 1, 2, 3].map((s) =>
      row(s, { reward_mean: 0.2 + s / 10, reward_std: 0.1, frac_degenerate: 0.5 - s / 10, resamples: 3 - s, eval_acc: s % 2 === 1 ? 0.4 + s / 10 : null, rollout_ms: 100, score_ms: 10, train_ms: 50, sync_ms: 5 }),
    );
    const html = String(renderRunCharts(rows));
    expect(html).toContain('data-steps="4"');
    expect(html.match(/<circle /g)?.length).toBe(4 + 4 + 4 + 2);
    expect(html.match(/<path class="band"/g)?.length).toBe(1);
    expect(html.match(/<rect /g)?.length).toBe(16);
    expect(html).toMatch(/<path class="series" data-series="reward mean" [^>]*d="M[\d.]+,[\d.]+L/);
    // Eval points are every other step: the line connects them across the gaps.
    expect(html).toMatch(/data-series="Acc@0.3" [^>]*d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
  });

  it('says "no data yet" without rows, and breaks a line at a missing value', () => {
    expect(String(renderRunCharts([])).match(/no data yet/g)?.length).toBe(5);
    const svg = String(renderLineChart('t', 'y', [{ name: 's', color: '#000', points: [[0, 1], [1, null], [2, 3], [3, 4]] }]));
    expect(svg).toMatch(/d="M[\d.]+,[\d.]+M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
  });

  it('escapes metric names that reach the page', () => {
    const svg = String(renderLineChart('<b>', 'y', [{ name: '<script>', color: '#000', points: [[0, 1]] }]));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('data-series="&lt;script&gt;"');
    expect(svg).toContain('aria-label="&lt;b&gt;"');
  });
});
