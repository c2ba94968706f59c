import type { StepMetrics } from '@differad/queue';
import { type MetricName, pickMetric } from './metric-series.js';

/** One part of a step's time: a segment of its bar. */
export interface StepTimePart {
  readonly name: string;
  readonly color: string;
  /** What the part is, for the legend's tooltip. */
  readonly help: string;
}

/**
 * The parts of a step's wall time, in the order they happen
 * (packages/orchestrator/src/step-worker.ts). A step is a BullMQ flow whose
 * parent `step` job is created with the step, so `total_ms` runs from its
 * creation to the row: first the wait for every group (`wait_ms`: rollouts,
 * scoring and resamples of all pairs side by side; in the overlapped mode
 * also the gate behind the previous step), then inside the step
 * job one after another `train_ms`, `sync_ms` and `eval_ms`. `rollout_ms`
 * and `score_ms` are sums over the groups, which run concurrently, so they
 * are not parts of the wall time: they go in the first part's tooltip.
 */
export const STEP_TIME_PARTS: readonly StepTimePart[] = [
  {
    name: 'wait for groups',
    color: '#2754c5',
    help: 'wait_ms: from the step’s start until its step job ran: rollouts, scoring and resamples of every pair (concurrently), in the overlapped mode also the wait for the previous step',
  },
  { name: 'train', color: '#d97706', help: 'train_ms: forward_backward micro-batches, optim_step and a due checkpoint' },
  { name: 'sync', color: '#9333ea', help: 'sync_ms: the new weights to every inference server' },
  { name: 'eval', color: '#0e9f6e', help: 'eval_ms: the held-out evaluation, when due' },
  { name: 'other', color: '#9aa3b5', help: 'the rest of total_ms: reading the final groups, bookkeeping' },
];

const PHASES: readonly MetricName[] = ['waitMs', 'trainMs', 'syncMs', 'evalMs'];

/** One step's bar: its parts in ms (in {@link STEP_TIME_PARTS} order), summing to `totalMs`. */
export interface StepTimeSplit {
  readonly step: number;
  readonly totalMs: number;
  readonly partsMs: readonly number[];
  /** The summed per-group rollout and scoring times (they overlap; null when the row has none). */
  readonly rolloutMs: number | null;
  readonly scoreMs: number | null;
}

/**
 * A step's time as a partition of `total_ms`: the phases laid end to end
 * in their order and cut at the total (what would run past it is clipped,
 * a negative or missing phase counts 0), and `other` the remainder, so the
 * parts always sum to the total. A row without `total_ms` (older runs) takes
 * the sum of its phases as the total; a row with no timing at all has no bar.
 */
export function computeStepTimeSplit(row: StepMetrics): StepTimeSplit | null {
  const phases = PHASES.map((name) => pickMetric(row, name));
  const recorded = pickMetric(row, 'totalMs');
  if (recorded === null && phases.every((v) => v === null)) return null;
  const totalMs = Math.max(0, recorded ?? phases.reduce<number>((sum, v) => sum + Math.max(0, v ?? 0), 0));
  let left = totalMs;
  const parts = phases.map((v) => {
    const part = Math.min(Math.max(0, v ?? 0), left);
    left -= part;
    return part;
  });
  return {
    step: row.step,
    totalMs,
    partsMs: [...parts, left],
    rolloutMs: pickMetric(row, 'rolloutMs'),
    scoreMs: pickMetric(row, 'scoreMs'),
  };
}
