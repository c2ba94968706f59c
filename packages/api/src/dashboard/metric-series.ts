import type { StepMetrics } from '@differad/queue';

/**
 * The metric names the charts read from a step's `values`, first match wins.
 * The orchestrator writes the names of @differad/core's step statistics
 * (`reward_mean`, `reward_std`, `frac_degenerate`, …); the camelCase spellings
 * are accepted too so that a rename shows up as a one-line change here.
 */
export const METRIC_KEYS = {
  rewardMean: ['reward_mean', 'rewardMean'],
  rewardStd: ['reward_std', 'rewardStd'],
  fracDegenerate: ['frac_degenerate', 'fracDegenerate'],
  resamples: ['resamples'],
  evalAcc30: ['eval_acc', 'eval_acc_0_3', 'evalAcc30'],
  loss: ['loss'],
  kl: ['kl'],
  clipFraction: ['clip_fraction', 'clipFraction'],
  gradNorm: ['grad_norm', 'gradNorm'],
  rolloutMs: ['rollout_ms', 'time_rollout_ms', 'rolloutMs'],
  scoreMs: ['score_ms', 'time_score_ms', 'scoreMs'],
  waitMs: ['wait_ms', 'waitMs'],
  trainMs: ['train_ms', 'time_train_ms', 'trainMs'],
  syncMs: ['sync_ms', 'time_sync_ms', 'syncMs'],
  evalMs: ['eval_ms', 'evalMs'],
  totalMs: ['total_ms', 'totalMs'],
} as const satisfies Record<string, readonly string[]>;

/** One chartable quantity. */
export type MetricName = keyof typeof METRIC_KEYS;

/** The value of `name` in a row: null when the row does not have it (or has it as null). */
export function pickMetric(row: StepMetrics, name: MetricName): number | null {
  for (const key of METRIC_KEYS[name]) {
    const value = row.values[key];
    if (value !== undefined) return value === null || !Number.isFinite(value) ? null : value;
  }
  return null;
}

/** `[step, value]` of every row, value null where missing. */
export function toSeries(rows: readonly StepMetrics[], name: MetricName): [number, number | null][] {
  return rows.map((row) => [row.step, pickMetric(row, name)]);
}
