import { describe, expect, it } from 'vitest';
import type { ScoredGroup } from './score-group.js';
import { type StepRowInput, type StepRowSlot, toStepRow } from './step-row.js';

/** A final group of two completions with these localization rewards, both well formatted. */
function slot(loc: readonly [number, number], extra: Partial<StepRowSlot> = {}): StepRowSlot {
  const scored: ScoredGroup = {
    formatRewards: [1, 1],
    locRewards: [...loc],
    rewards: loc.map((r) => 1 + r),
    ious: [...loc],
    advantages: [0, 0],
    weight: 1,
    degenerate: loc[0] === loc[1],
    valid: 2,
  };
  return { scored, weight: 1.5, resamples: 0, replacements: 0, rolloutMs: 10, scoreMs: 1, ...extra };
}

const input: StepRowInput = {
  step: 4,
  slots: [slot([1, 0.5], { resamples: 2, rolloutMs: 30 }), slot([0, 0], { resamples: 1, replacements: 1, weight: 2.5, scoreMs: 3 })],
  microBatches: [
    { loss: 0.2, clip_fraction: 0.1, kl: null },
    { loss: 0.4, clip_fraction: 0.3, kl: null },
  ],
  applied: { gradNorm: 0.7, weightVersion: 5 },
  servers: { active: 2, out: 1 },
  evaluation: { eval_n: 6, eval_acc: 0.5 },
  timings: { waitMs: 5, trainMs: 20, syncMs: 7, evalMs: 9, totalMs: 50 },
};

describe('toStepRow (the metrics row of docs/architecture.md §4.4)', () => {
  it('assembles the reward statistics, counts, trainer figures, servers, held-out figures and timings', () => {
    expect(toStepRow(input)).toEqual({
      step: 4,
      reward_mean: 1.375,
      reward_std: expect.closeTo(Math.sqrt(0.171875), 12),
      format_rate: 1,
      loc_reward_mean: 0.375,
      iou_mean: 0.375,
      frac_degenerate: 0.5,
      weight_mean: 2,
      resamples: 3,
      replacements: 1,
      loss: expect.closeTo(0.3, 12),
      clip_fraction: expect.closeTo(0.2, 12),
      kl: null,
      grad_norm: 0.7,
      weight_version: 5,
      servers_active: 2,
      servers_out: 1,
      eval_n: 6,
      eval_acc: 0.5,
      rollout_ms: 40,
      score_ms: 4,
      wait_ms: 5,
      train_ms: 20,
      sync_ms: 7,
      eval_ms: 9,
      total_ms: 50,
    });
  });

  it('puts the step first (a metrics.jsonl line starts {"step":N,) and the held-out figures between the servers and the timings', () => {
    const keys = Object.keys(toStepRow(input));
    expect(keys[0]).toBe('step');
    expect(keys.slice(keys.indexOf('servers_out'), keys.indexOf('rollout_ms') + 1)).toEqual([
      'servers_out',
      'eval_n',
      'eval_acc',
      'rollout_ms',
    ]);
    expect(JSON.stringify(toStepRow(input)).startsWith('{"step":4,')).toBe(true);
  });

  it('has no staleness fields in the serial mode, and the overlapped histogram between the servers and the held-out figures', () => {
    expect(Object.keys(toStepRow(input)).some((k) => k.startsWith('staleness_') || k === 'regenerated')).toBe(false);
    const keys = Object.keys(toStepRow({ ...input, staleness: { histogram: [60, 4], regenerated: 1 } }));
    expect(keys.slice(keys.indexOf('servers_out'), keys.indexOf('eval_n') + 1)).toEqual([
      'servers_out',
      'staleness_0',
      'staleness_1',
      'regenerated',
      'eval_n',
    ]);
    expect(toStepRow({ ...input, staleness: { histogram: [60, 4], regenerated: 1 } })).toMatchObject({
      staleness_0: 60,
      staleness_1: 4,
      regenerated: 1,
    });
  });

  it('averages the trainer figures over the micro-batches that reported them, null when none did', () => {
    const row = toStepRow({
      ...input,
      microBatches: [
        { loss: null, clip_fraction: null, kl: 0.02 },
        { loss: 0.6, clip_fraction: null, kl: 0.04 },
      ],
    });
    expect(row).toMatchObject({ loss: 0.6, clip_fraction: null, kl: expect.closeTo(0.03, 12) });
  });

  it('has null servers without a sync, and no held-out fields and a null eval_ms when no evaluation was due', () => {
    const row = toStepRow({ ...input, servers: null, evaluation: {}, timings: { ...input.timings, evalMs: null } });
    expect(row).toMatchObject({ servers_active: null, servers_out: null, eval_ms: null });
    expect(Object.keys(row).filter((k) => k.startsWith('eval_'))).toEqual(['eval_ms']);
  });
});
