import type { StepMetrics } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import { renderRunCharts } from './run-charts.js';
import { renderLineChart } from './svg-charts.js';

const row = (step: number, values: Record<string, number | null>): StepMetrics => ({
  step,
  weightVersion: step + 1,
  at: 1_700_000_000_000 + step,
  values,
});
const AXIS = { label: 'y', kind: 'value' } as const;

/** The figure titled `title` in `html`. */
function figure(html: string, title: string): string {
  const start = html.indexOf(`<figure data-chart="${title}">`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</figure>', start));
}
const tickLabels = (svg: string, axis: 'x' | 'y') =>
  [...svg.matchAll(new RegExp(`<text class="tick-${axis}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);

describe('run charts', () => {
  const rows = [0, 1, 2, 3].map((s) =>
    row(s, {
      reward_mean: 0.2 + s / 10,
      reward_std: 0.1,
      frac_degenerate: 0.5 - s / 10,
      resamples: 3 - s,
      eval_acc: s % 2 === 1 ? 0.4 + s / 10 : null,
      loss: -0.05 + s / 50,
      kl: s === 0 ? null : s * 1e-5,
      clip_fraction: 0.02 * s,
      grad_norm: 2.5 - s / 2,
      rollout_ms: 900,
      score_ms: 40,
      wait_ms: 300,
      train_ms: 50,
      sync_ms: 5,
      eval_ms: s % 2 === 1 ? 20 : null,
      total_ms: 400,
    }),
  );
  const html = String(renderRunCharts(rows));

  it('draws a point per step, a ± std band, sparse eval points and a bar per step', () => {
    expect(html).toContain('data-steps="4"');
    // reward, degenerate, resamples: 4 each; eval: 2; loss, clip fraction, grad norm: 4 each; KL: 3.
    expect(html.match(/<circle /g)?.length).toBe(4 * 3 + 2 + 4 * 3 + 3);
    expect(html.match(/<path class="band"/g)?.length).toBe(1);
    expect(html.match(/<g class="bar"/g)?.length).toBe(4);
    expect(html).toMatch(/<path class="series" data-series="reward mean" [^>]*d="M[\d.]+,[\d.]+L/);
    // Eval points are every other step: the line connects them across the gaps.
    expect(html).toMatch(/data-series="Acc@0.3" [^>]*d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
    for (const title of ['Loss', 'KL', 'Clip fraction', 'Grad norm']) expect(figure(html, title)).toContain(`aria-label="${title}"`);
  });

  it('labels each axis with nice ticks: integers on counts, one number of decimals per chart, powers of ten for tiny values', () => {
    expect(tickLabels(figure(html, 'Resamples'), 'y')).toEqual(['0', '1', '2', '3']);
    expect(tickLabels(figure(html, 'Resamples'), 'x')).toEqual(['0', '1', '2', '3']);
    expect(tickLabels(figure(html, 'Fraction degenerate'), 'y')).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(tickLabels(figure(html, 'Loss'), 'y')).toEqual(['-0.06', '-0.04', '-0.02', '0.00', '0.02']);
    expect(tickLabels(figure(html, 'KL'), 'y')).toEqual(['1.0', '1.5', '2.0', '2.5', '3.0']);
    expect(figure(html, 'KL')).toContain('<text class="axis-y" x="4" y="11">KL (×10⁻⁵)</text>');
    expect(tickLabels(figure(html, 'Step time'), 'y')).toEqual(['0.0', '0.1', '0.2', '0.3', '0.4']);
  });

  it('splits each step-time bar into parts that sum to the step total, with what each part is', () => {
    const time = figure(html, 'Step time');
    const bars = [...time.matchAll(/<g class="bar" data-step="(\d+)" data-total="([\d.]+)">(.*?)<\/g>/g)];
    expect(bars).toHaveLength(4);
    for (const [, step, total, rects] of bars) {
      const parts = [...rects!.matchAll(/data-part="([^"]+)" data-value="([\d.e-]+)"/g)].map((m) => [m[1], Number(m[2])] as const);
      expect(Number(total)).toBe(0.4);
      expect(parts.reduce((sum, [, v]) => sum + v, 0)).toBeCloseTo(0.4, 12);
      const eval_ = Number(step) % 2 === 1;
      expect(parts.map(([name]) => name)).toEqual(['wait for groups', 'train', 'sync', ...(eval_ ? ['eval'] : []), 'other']);
      expect(parts.at(-1)![1]).toBeCloseTo(eval_ ? 0.025 : 0.045, 12);
    }
    expect(time).toContain('rollouts Σ 0.9000 s, scoring Σ 0.04000 s over the groups (concurrent)');
    expect(time).toMatch(/<span title="train_ms: forward_backward[^"]*"><i [^>]*><\/i>train<\/span>/);
    expect(time).toContain('<p class="note muted">Each bar is the step’s total_ms');
  });

  it('says "no data yet" without rows, and breaks a line at a missing value', () => {
    expect(String(renderRunCharts([])).match(/no data yet/g)?.length).toBe(9);
    const svg = String(
      renderLineChart('t', AXIS, [
        {
          name: 's',
          color: '#000',
          points: [
            [0, 1],
            [1, null],
            [2, 3],
            [3, 4],
          ],
        },
      ]),
    );
    expect(svg).toMatch(/d="M[\d.]+,[\d.]+M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
  });

  it('escapes metric names that reach the page', () => {
    const svg = String(renderLineChart('<b>', AXIS, [{ name: '<script>', color: '#000', points: [[0, 1]] }]));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('data-series="&lt;script&gt;"');
    expect(svg).toContain('aria-label="&lt;b&gt;"');
  });
});
