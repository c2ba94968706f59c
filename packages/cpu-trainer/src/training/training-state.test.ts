import {
  computeGradNorm,
  computeGrpoGaussianLoss,
  DEFAULT_CPU_POLICY,
  isDifferadError,
  parsePolicySample,
  toPolicyVector,
} from '@differad/core';
import { CONTRACT_LOSS, type ForwardBackwardRequest, type Group, toContractGroup, toMethodTerms } from '@differad/trainer-client';
import { describe, expect, it } from 'vitest';
import { createCpuSample } from '../testing/cpu-sample.js';
import { createTrainingState } from './training-state.js';

const sample = createCpuSample(DEFAULT_CPU_POLICY, 9, 5);
const request = (step: number, microBatch = 0, microBatches = 1): ForwardBackwardRequest => ({
  run: 'r',
  step,
  micro_batch: microBatch,
  micro_batches: microBatches,
  loss: CONTRACT_LOSS,
  groups: [toContractGroup(sample, toMethodTerms(true))],
});

/** The core loss's samples of a group's completions that are not truncated. */
function toLossSamples(group: Group) {
  return group.completions
    .filter((c) => !c.truncated)
    .map((c) => ({
      sample: parsePolicySample(c.text, DEFAULT_CPU_POLICY)!,
      samplingLogProb: c.sampling_logprobs![0]!,
      advantage: c.advantage,
      weight: c.weight,
    }));
}

/**
 * One step of four groups (33 completions, the first group's last one
 * truncated) sent as `splits` micro-batches with the step's totals; returns
 * the optim_step reply and the policy after it.
 */
function trainStep(splits: readonly (readonly number[])[]) {
  const groups = [0, 1, 2, 3].map((k) =>
    toContractGroup(createCpuSample(DEFAULT_CPU_POLICY, 9, 11 + k), toMethodTerms(k === 0), 1 + k / 4),
  );
  const stepSequences = groups.reduce((a, g) => a + g.completions.length, 0);
  const state = createTrainingState(DEFAULT_CPU_POLICY);
  for (const [i, members] of splits.entries()) {
    state.forwardBackward({
      run: 'r',
      step: 0,
      micro_batch: i,
      micro_batches: splits.length,
      loss: { ...CONTRACT_LOSS, step_sequences: stepSequences, step_tokens: stepSequences },
      groups: members.map((k) => groups[k]!),
    });
  }
  return {
    groups,
    reply: state.optimStep({ run: 'r', step: 0, lr: 0.01 }),
    policy: toPolicyVector(state.currentPolicy()),
    snapshot: state.snapshot('r', 0),
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isDifferadError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('the CPU training state', () => {
  it('reports the gradient norm of the core loss, before clipping', () => {
    const state = createTrainingState(DEFAULT_CPU_POLICY);
    state.forwardBackward(request(0));
    const group = request(0).groups[0]!;
    const samples = group.completions.slice(0, 8).map((c) => ({
      sample: parsePolicySample(c.text, DEFAULT_CPU_POLICY)!,
      samplingLogProb: c.sampling_logprobs![0]!,
      advantage: c.advantage,
      weight: c.weight,
    }));
    const expected = computeGrpoGaussianLoss({
      policy: DEFAULT_CPU_POLICY,
      reference: DEFAULT_CPU_POLICY,
      samples,
      config: { clipLow: 0.2, clipHigh: 0.2, beta: 0, temperature: 1 },
    });
    const reply = state.optimStep({ run: 'r', step: 0, lr: 0.01, max_grad_norm: 1e-6 });
    expect(reply.grad_norm).toBeCloseTo(computeGradNorm(expected.gradient), 12);
    expect(reply).toMatchObject({ applied: true, weight_version: 1, sequences: 8 });
  });

  it('gives a step the same gradient and update however it is split, a truncated completion counted in the mean as 0', () => {
    const whole = trainStep([[0, 1, 2, 3]]);
    const split = trainStep([[0], [1], [2], [3]]);
    const uneven = trainStep([[0, 1, 2], [3]]);
    // docs/method.md §6.3: the sum over the 32 scored completions divided by all 33 of the step.
    const scored = computeGrpoGaussianLoss({
      policy: DEFAULT_CPU_POLICY,
      reference: DEFAULT_CPU_POLICY,
      samples: whole.groups.flatMap(toLossSamples),
      config: { clipLow: 0.2, clipHigh: 0.2, beta: 0, temperature: 1 },
    });
    expect(scored.count).toBe(32);
    expect(whole.reply.grad_norm).toBeCloseTo((computeGradNorm(scored.gradient) * 32) / 33, 12);
    for (const other of [split, uneven]) {
      expect(other.reply.grad_norm).toBeCloseTo(whole.reply.grad_norm!, 12);
      other.policy.forEach((v, k) => expect(v).toBeCloseTo(whole.policy[k]!, 12));
    }
    expect(split.reply).toMatchObject({ micro_batches: 4, sequences: 32 });
  });

  it('clips the step gradient to max_grad_norm by its global norm before Adam, and reports the norm before clipping', () => {
    const free = trainStep([[0, 1, 2, 3]]);
    const state = createTrainingState(DEFAULT_CPU_POLICY);
    const norm = free.reply.grad_norm!;
    state.forwardBackward({
      run: 'r',
      step: 0,
      micro_batch: 0,
      micro_batches: 1,
      loss: { ...CONTRACT_LOSS, step_sequences: 33 },
      groups: free.groups,
    });
    const reply = state.optimStep({ run: 'r', step: 0, lr: 0.01, max_grad_norm: norm / 4 });
    expect(reply.grad_norm).toBeCloseTo(norm, 12);
    // Adam's first moment after one step is (1 − β₁)·g: the gradient it was given.
    const given = state.snapshot('r', 0).adam.m.map((m) => m / 0.1);
    const unclipped = free.snapshot.adam.m.map((m) => m / 0.1);
    expect(computeGradNorm(unclipped)).toBeCloseTo(norm, 9);
    expect(computeGradNorm(given)).toBeCloseTo(norm / 4, 6);
    given.forEach((g, k) => expect(g).toBeCloseTo(unclipped[k]! / 4, 6));
  });

  it('refuses step totals below the micro-batch or changed within a step', () => {
    const state = createTrainingState(DEFAULT_CPU_POLICY);
    const withTotal = (microBatch: number, stepSequences: number) => ({
      ...request(0, microBatch, 2),
      loss: { ...CONTRACT_LOSS, step_sequences: stepSequences },
    });
    expect(codeOf(() => state.forwardBackward(withTotal(0, 8)))).toBe('TRAINER_REQUEST_INVALID');
    state.forwardBackward(withTotal(0, 18));
    expect(codeOf(() => state.forwardBackward(withTotal(1, 20)))).toBe('TRAINER_STEP_CONFLICT');
    expect(codeOf(() => state.forwardBackward(request(0, 1, 2)))).toBe('TRAINER_STEP_CONFLICT');
    expect(state.forwardBackward(withTotal(1, 18))).toMatchObject({ duplicate: false, sequences: 8 });
  });

  it('refuses a changed micro-batch count within a step and an optim_step for a step never sent', () => {
    const state = createTrainingState(DEFAULT_CPU_POLICY);
    state.forwardBackward(request(0, 0, 2));
    expect(codeOf(() => state.forwardBackward(request(0, 1, 3)))).toBe('TRAINER_STEP_CONFLICT');
    expect(codeOf(() => state.optimStep({ run: 'r', step: 4, lr: 0.01 }))).toBe('TRAINER_STEP_INCOMPLETE');
    expect(codeOf(() => state.snapshot('r', 0))).toBe('TRAINER_STEP_CONFLICT');
  });

  it('answers duplicates of steps before a restore with null figures, and replays known ones', () => {
    const state = createTrainingState(DEFAULT_CPU_POLICY);
    const first = state.forwardBackward(request(0));
    state.optimStep({ run: 'r', step: 0, lr: 0.01 });
    expect(state.forwardBackward(request(0))).toEqual({ ...first, duplicate: true });
    const snapshot = state.snapshot('r', 0);
    const fresh = createTrainingState(DEFAULT_CPU_POLICY);
    fresh.restore(snapshot);
    expect(fresh.health()).toEqual({ run: 'r', step: 0, weight_version: 1, pending: null });
    expect(fresh.forwardBackward(request(0))).toMatchObject({ duplicate: true, loss: null, clip_fraction: null, sequences: 0 });
    expect(fresh.optimStep({ run: 'r', step: 0, lr: 0.01 })).toMatchObject({
      duplicate: true,
      applied: false,
      grad_norm: null,
      weight_version: 1,
    });
    expect(fresh.currentPolicy()).toEqual(state.currentPolicy());
    expect(fresh.counters).toMatchObject({ duplicateMicroBatches: 1, duplicateOptimSteps: 1, optimSteps: 0 });
  });
});
