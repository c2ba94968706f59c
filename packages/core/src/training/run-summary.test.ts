import { describe, expect, it } from 'vitest';
import { computeMetricReport } from '../metrics/metrics.js';
import { BEFORE_TRAINING_STEP, computeRunSummary, type StepMetricsRow } from './run-summary.js';

const evalRow = (acc: number, f1: number, miou: number) => ({
  eval_n: 20,
  eval_acc: acc,
  eval_f1: f1,
  eval_miou: miou,
  eval_miou_ano: miou / 2,
  eval_miou_nor: 0.9,
});

/** 25 steps whose reward rises by 0.1 a step, evaluated after steps 9, 19 and 24. */
function risingRun(): StepMetricsRow[] {
  return Array.from({ length: 25 }, (_, step) => ({
    step,
    reward_mean: 1 + 0.1 * step,
    weight_version: step + 1,
    ...(step === 9 ? evalRow(0.5, 0.4, 0.3) : step === 19 ? evalRow(0.7, 0.6, 0.4) : step === 24 ? evalRow(0.65, 0.7, 0.45) : {}),
  }));
}

const base = {
  runId: 'r',
  state: 'completed',
  tau: 0.3,
  before: { eval_n: 20, eval_acc: 0.35, eval_f1: 0.3, eval_miou: 0.2, eval_miou_ano: 0.1, eval_miou_nor: 0.8 },
  finalPolicy: null,
};

describe('computeRunSummary', () => {
  it('held-out metrics before and after training, and the best step by Acc', () => {
    const s = computeRunSummary({ ...base, rows: risingRun() });
    expect(s.held_out.before).toEqual({ step: null, n: 20, acc: 0.35, f1: 0.3, miou: 0.2, miou_ano: 0.1, miou_nor: 0.8 });
    expect(s.held_out.after).toMatchObject({ step: 24, acc: 0.65, f1: 0.7, miou: 0.45 });
    expect(s.held_out.best).toMatchObject({ step: 19, acc: 0.7, f1: 0.6 });
    expect(s.steps_completed).toBe(25);
    expect(s.tau).toBe(0.3);
  });

  it('the reward means of the first and last 10 steps', () => {
    const { reward } = computeRunSummary({ ...base, rows: risingRun() });
    // Steps 0..9: 1.0 … 1.9 → 1.45; steps 15..24: 2.5 … 3.4 → 2.95.
    expect(reward.first.steps).toBe(10);
    expect(reward.first.mean).toBeCloseTo(1.45, 12);
    expect(reward.last.steps).toBe(10);
    expect(reward.last.mean).toBeCloseTo(2.95, 12);
  });

  it('a short run averages what it has at both ends, and ignores the order and repeats of its rows', () => {
    const rows = [
      { step: 2, reward_mean: 3 },
      { step: 0, reward_mean: 1 },
      { step: 1, reward_mean: 9 },
      { step: 1, reward_mean: 2 },
    ];
    const { reward, steps_completed } = computeRunSummary({ ...base, rows, window: 2 });
    expect(steps_completed).toBe(3);
    expect(reward.first).toEqual({ steps: 2, mean: 1.5 });
    expect(reward.last).toEqual({ steps: 2, mean: 2.5 });
  });

  it('ties on Acc go to the higher F1, then to the earlier step; before training is never the best', () => {
    const rows = [
      { step: 0, reward_mean: 0, ...evalRow(0.5, 0.4, 0.1) },
      { step: 1, reward_mean: 0, ...evalRow(0.5, 0.6, 0.1) },
      { step: 2, reward_mean: 0, ...evalRow(0.5, 0.6, 0.9) },
    ];
    expect(computeRunSummary({ ...base, rows }).held_out.best?.step).toBe(1);
    const worse = computeRunSummary({ ...base, before: { eval_n: 20, eval_acc: 0.9, eval_f1: 0.9 }, rows });
    expect(worse.held_out.best?.step).toBe(1);
    expect(worse.held_out.before?.acc).toBe(0.9);
  });

  it('without a held-out set or steps: nulls, not errors', () => {
    const s = computeRunSummary({ ...base, before: null, rows: [] });
    expect(s.held_out).toEqual({ before: null, after: null, best: null });
    expect(s.reward).toEqual({ first: { steps: 0, mean: null }, last: { steps: 0, mean: null } });
  });

  it('adds per-class figures and the defect class mean where the evaluation report was kept', () => {
    const outcome = (cls: string, anomalous: boolean, hit: boolean) => ({
      class: cls,
      anomalous,
      predictedBox: hit && anomalous,
      iou: hit && anomalous ? 0.9 : 0,
      u: hit ? (anomalous ? 0.9 : 1) : 0,
    });
    const before = computeMetricReport([outcome('open', true, false), outcome('normal', false, true)], 0.3);
    const after = computeMetricReport([outcome('open', true, true), outcome('normal', false, true)], 0.3);
    const reports = new Map([
      [BEFORE_TRAINING_STEP, before],
      [24, after],
    ]);
    const s = computeRunSummary({
      ...base,
      rows: risingRun(),
      reports,
      finalPolicy: { path: '/runs/r/trainer/weights/policy-v25.json', weight_version: 25 },
    });
    expect(s.held_out.before?.classes?.open?.acc).toBe(0);
    expect(s.held_out.after?.classes?.open?.acc).toBe(1);
    expect(s.held_out.after?.defect_class_mean).toMatchObject({ n: 1, acc: 1 });
    expect(s.held_out.best?.classes).toBeUndefined();
    expect(s.final_policy).toEqual({ path: '/runs/r/trainer/weights/policy-v25.json', weight_version: 25 });
  });
});
