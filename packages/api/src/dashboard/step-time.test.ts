import type { StepMetrics } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import { computeStepTimeSplit, STEP_TIME_PARTS } from './step-time.js';

const row = (values: Record<string, number | null>): StepMetrics => ({ step: 7, weightVersion: 8, at: 0, values });

describe('computeStepTimeSplit', () => {
  it('lays the phases end to end and gives the rest of total_ms to "other"', () => {
    const split = computeStepTimeSplit(
      row({ rollout_ms: 5_000, score_ms: 300, wait_ms: 1_200, train_ms: 400, sync_ms: 100, eval_ms: null, total_ms: 1_750 }),
    );
    expect(split).toEqual({ step: 7, totalMs: 1_750, partsMs: [1_200, 400, 100, 0, 50], rolloutMs: 5_000, scoreMs: 300 });
    expect(STEP_TIME_PARTS.map((p) => p.name)).toEqual(['wait for groups', 'train', 'sync', 'eval', 'other']);
  });

  it('cuts what would run past the total, so the parts never add up to more than the step', () => {
    expect(computeStepTimeSplit(row({ wait_ms: 900, train_ms: 400, sync_ms: 100, eval_ms: 50, total_ms: 1_000 }))?.partsMs).toEqual([
      900, 100, 0, 0, 0,
    ]);
    expect(computeStepTimeSplit(row({ wait_ms: 1_000.4, train_ms: 0.3, sync_ms: 0, eval_ms: null, total_ms: 1_000 }))?.partsMs).toEqual([
      1_000, 0, 0, 0, 0,
    ]);
    expect(computeStepTimeSplit(row({ wait_ms: -3, train_ms: 10, total_ms: 12 }))?.partsMs).toEqual([0, 10, 0, 0, 2]);
  });

  it('takes the sum of the phases for a row without total_ms, and has no bar without timings', () => {
    expect(computeStepTimeSplit(row({ rollout_ms: 100, train_ms: 50, sync_ms: 5 }))).toEqual({
      step: 7,
      totalMs: 55,
      partsMs: [0, 50, 5, 0, 0],
      rolloutMs: 100,
      scoreMs: null,
    });
    expect(computeStepTimeSplit(row({ reward_mean: 1 }))).toBeNull();
  });
});
