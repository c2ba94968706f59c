import type { StepMetrics } from '@differad/queue';
import { formatNumber, type Markup, markup } from './html.js';
import { type MetricName, pickMetric, toSeries } from './metric-series.js';
import { computeStepTimeSplit, STEP_TIME_PARTS } from './step-time.js';
import { renderFigure, renderLineChart, renderStackedBars, type StackedBar, type YAxis } from './svg-charts.js';

const BLUE = '#2754c5';

/** A one-line chart of `metric` in a figure titled `title`. */
function lineFigure(
  rows: readonly StepMetrics[],
  title: string,
  axis: YAxis,
  metric: MetricName,
  color: string,
  connectGaps = false,
): Markup {
  return renderFigure(title, renderLineChart(title, axis, [{ name: axis.label, color, points: toSeries(rows, metric), connectGaps }]), []);
}

const STEP_TIME_NOTE =
  'Each bar is the step’s total_ms, split into its phases in order; a phase that would run past the total is cut, and “other” is what is left. The summed per-group rollout and scoring times overlap and are in the first part’s tooltip.';

/** The step-time bars, in seconds: a partition of each step's total ({@link computeStepTimeSplit}). */
function stepTimeFigure(rows: readonly StepMetrics[]): Markup {
  const seconds = (ms: number) => ms / 1000;
  const bars = rows.flatMap((row): StackedBar[] => {
    const split = computeStepTimeSplit(row);
    if (split === null) return [];
    const sums = [
      split.rolloutMs === null ? null : `rollouts Σ ${formatNumber(seconds(split.rolloutMs))} s`,
      split.scoreMs === null ? null : `scoring Σ ${formatNumber(seconds(split.scoreMs))} s`,
    ].filter((s) => s !== null);
    return [
      {
        step: split.step,
        total: seconds(split.totalMs),
        parts: split.partsMs.map(seconds),
        ...(sums.length > 0 ? { note: `${sums.join(', ')} over the groups (concurrent)` } : {}),
      },
    ];
  });
  return renderFigure(
    'Step time',
    renderStackedBars('Step time', { label: 'seconds', kind: 'value' }, STEP_TIME_PARTS, bars),
    STEP_TIME_PARTS,
    STEP_TIME_NOTE,
  );
}

/**
 * The run page's charts, from the run store's metric rows: reward mean ± std,
 * fraction of degenerate groups, resamples, held-out Acc@0.3, the trainer's
 * loss, KL, clip fraction and gradient norm, and the step time as a partition
 * of each step's total. Counts get integer ticks, rates ticks in [0, 1].
 */
export function renderRunCharts(rows: readonly StepMetrics[]): Markup {
  const band = rows.flatMap((row): [number, number, number][] => {
    const mean = pickMetric(row, 'rewardMean');
    const std = pickMetric(row, 'rewardStd');
    return mean === null || std === null ? [] : [[row.step, mean - std, mean + std]];
  });
  const reward = renderLineChart('Reward (mean ± std)', { label: 'reward', kind: 'value' }, [
    { name: 'reward mean', color: BLUE, points: toSeries(rows, 'rewardMean'), band },
  ]);
  const figures = [
    renderFigure('Reward (mean ± std)', reward, [
      { name: 'mean', color: BLUE },
      { name: '± std', color: '#b9c8ef' },
    ]),
    lineFigure(rows, 'Fraction degenerate', { label: 'degenerate', kind: 'rate', range: [0, 1] }, 'fracDegenerate', '#dc2626'),
    lineFigure(rows, 'Resamples', { label: 'resamples', kind: 'count' }, 'resamples', '#d97706'),
    lineFigure(rows, 'Held-out Acc@0.3', { label: 'Acc@0.3', kind: 'rate' }, 'evalAcc30', '#0e9f6e', true),
    lineFigure(rows, 'Loss', { label: 'loss', kind: 'value' }, 'loss', '#1d2433'),
    lineFigure(rows, 'KL', { label: 'KL', kind: 'value' }, 'kl', '#9333ea'),
    lineFigure(rows, 'Clip fraction', { label: 'clip fraction', kind: 'rate' }, 'clipFraction', '#0891b2'),
    lineFigure(rows, 'Grad norm', { label: 'grad norm', kind: 'value' }, 'gradNorm', '#b45309'),
    stepTimeFigure(rows),
  ];
  return markup`<div class="charts" id="charts" data-steps="${rows.length}">${figures}</div>`;
}
