import type { StepMetrics } from '@differad/queue';
import { pickMetric, toSeries } from './metric-series.js';
import { type Markup, markup } from './html.js';
import { renderFigure, renderLineChart, renderStackedBars, type StackPart } from './svg-charts.js';

const BLUE = '#2754c5';
const TIME_PARTS: readonly StackPart[] = [
  { name: 'rollout', color: '#2754c5' },
  { name: 'score', color: '#0e9f6e' },
  { name: 'train', color: '#d97706' },
  { name: 'sync', color: '#9333ea' },
];

/**
 * The run page's charts, from the run store's metric rows: reward mean ± std,
 * fraction of degenerate groups, resamples, held-out Acc@0.3 and the step
 * time split (rollout/score/train/sync, in seconds).
 */
export function renderRunCharts(rows: readonly StepMetrics[]): Markup {
  const band = rows.flatMap((row): [number, number, number][] => {
    const mean = pickMetric(row, 'rewardMean');
    const std = pickMetric(row, 'rewardStd');
    return mean === null || std === null ? [] : [[row.step, mean - std, mean + std]];
  });
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  const time = rows.map((row): [number, (number | null)[]] => [
    row.step,
    [seconds(pickMetric(row, 'rolloutMs')), seconds(pickMetric(row, 'scoreMs')), seconds(pickMetric(row, 'trainMs')), seconds(pickMetric(row, 'syncMs'))],
  ]);
  const figures = [
    renderFigure('Reward (mean ± std)', renderLineChart('Reward (mean ± std)', 'reward', [{ name: 'reward mean', color: BLUE, points: toSeries(rows, 'rewardMean'), band }]), [
      { name: 'mean', color: BLUE },
      { name: '± std', color: '#b9c8ef' },
    ]),
    renderFigure('Fraction degenerate', renderLineChart('Fraction degenerate', 'fraction', [{ name: 'degenerate', color: '#dc2626', points: toSeries(rows, 'fracDegenerate') }], [0, 1]), []),
    renderFigure('Resamples', renderLineChart('Resamples', 'groups', [{ name: 'resamples', color: '#d97706', points: toSeries(rows, 'resamples') }]), []),
    renderFigure('Held-out Acc@0.3', renderLineChart('Held-out Acc@0.3', 'Acc@0.3', [{ name: 'Acc@0.3', color: '#0e9f6e', points: toSeries(rows, 'evalAcc30'), connectGaps: true }]), []),
    renderFigure('Step time', renderStackedBars('Step time', 'seconds', TIME_PARTS, time), TIME_PARTS),
  ];
  return markup`<div class="charts" id="charts" data-steps="${rows.length}">${figures}</div>`;
}
