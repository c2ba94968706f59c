import { computeGradNorm, computeGrpoGaussianLoss, DEFAULT_CPU_POLICY, isDifferadError, parsePolicySample } from '@differad/core';
import { CONTRACT_LOSS, type ForwardBackwardRequest, toContractGroup, toMethodTerms } from '@differad/trainer-client';
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
    const samples = group.completions.slice(0, 8).map((c) => ({ sample: parsePolicySample(c.text, DEFAULT_CPU_POLICY)!, samplingLogProb: c.sampling_logprobs[0]!, advantage: c.advantage, weight: c.weight }));
    const expected = computeGrpoGaussianLoss({ policy: DEFAULT_CPU_POLICY, reference: DEFAULT_CPU_POLICY, samples, config: { clipLow: 0.2, clipHigh: 0.2, beta: 0, temperature: 1 } });
    const reply = state.optimStep({ run: 'r', step: 0, lr: 0.01, max_grad_norm: 1e-6 });
    expect(reply.grad_norm).toBeCloseTo(computeGradNorm(expected.gradient), 12);
    expect(reply).toMatchObject({ applied: true, weight_version: 1, sequences: 8 });
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
    expect(fresh.optimStep({ run: 'r', step: 0, lr: 0.01 })).toMatchObject({ duplicate: true, applied: false, grad_norm: null, weight_version: 1 });
    expect(fresh.currentPolicy()).toEqual(state.currentPolicy());
    expect(fresh.counters).toMatchObject({ duplicateMicroBatches: 1, duplicateOptimSteps: 1, optimSteps: 0 });
  });
});
