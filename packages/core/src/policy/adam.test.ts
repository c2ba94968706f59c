import { describe, expect, it } from 'vitest';
import { computeAdamStep, computeClippedGradient, computeGradNorm, createAdamState } from './adam.js';
import { DEFAULT_CPU_POLICY } from './gaussian-policy.js';
import {
  computePolicyStepScale,
  fromParamRecord,
  fromPolicyVector,
  LOG_STD_RANGE,
  LOG_STD_STEP_SCALE,
  toParamRecord,
  toPolicyVector,
} from './policy-vector.js';

describe('Adam', () => {
  it('moves each parameter by lr·sign(g) on the first step (bias correction)', () => {
    const { params, state } = computeAdamStep([1, 2, 3], [0.5, -4, 0], createAdamState(3), { lr: 0.1 });
    expect(params[0]).toBeCloseTo(0.9, 6);
    expect(params[1]).toBeCloseTo(2.1, 6);
    expect(params[2]).toBe(3);
    expect(state.t).toBe(1);
    expect(state.m[0]).toBeCloseTo(0.05, 12);
    expect(state.v[1]).toBeCloseTo(0.001 * 16, 12);
  });

  it('matches a hand-computed second step', () => {
    const first = computeAdamStep([0], [1], createAdamState(1), { lr: 0.01 });
    const second = computeAdamStep(first.params, [3], first.state, { lr: 0.01 });
    // m = .9·.1 + .1·3 = .39, v = .999·.001 + .001·9 = .009999; m̂ = .39/.19, v̂ = .009999/.001999
    const expected = first.params[0]! - (0.01 * (0.39 / 0.19)) / (Math.sqrt(0.009999 / 0.001999) + 1e-8);
    expect(second.params[0]).toBeCloseTo(expected, 12);
    expect(second.state.t).toBe(2);
  });

  it('minimizes a quadratic', () => {
    let params = [5, -3];
    let state = createAdamState(2);
    for (let i = 0; i < 2000; i++)
      ({ params, state } = computeAdamStep(
        params,
        params.map((p) => 2 * p),
        state,
        { lr: 0.05 },
      ));
    expect(Math.abs(params[0]!)).toBeLessThan(1e-2);
    expect(Math.abs(params[1]!)).toBeLessThan(1e-2);
  });

  it('rejects mismatched lengths', () => {
    expect(() => computeAdamStep([1, 2], [1], createAdamState(2), { lr: 1 })).toThrow(RangeError);
    expect(() => computeAdamStep([1, 2], [1, 1], createAdamState(2), { lr: 1, scale: [1] })).toThrow(/scales/);
  });

  it("multiplies each value's step by its scale", () => {
    const { params } = computeAdamStep([1, 1, 1], [1, 1, -1], createAdamState(3), { lr: 0.1, scale: [25, 1, 0.5] });
    expect(params[0]).toBeCloseTo(1 - 2.5, 6);
    expect(params[1]).toBeCloseTo(0.9, 6);
    expect(params[2]).toBeCloseTo(1.05, 6);
  });
});

describe('gradient norm and clipping', () => {
  it('reports the norm and scales only gradients longer than the limit', () => {
    expect(computeGradNorm([3, 4])).toBe(5);
    const clipped = computeClippedGradient([3, 4], 1);
    expect(computeGradNorm(clipped)).toBeCloseTo(1, 5);
    expect(computeClippedGradient([0.3, 0.4], 1)).toEqual([0.3, 0.4]);
  });
});

describe('policy vectors', () => {
  it('round-trips a policy and a record, and clamps logStd into the schema range', () => {
    const v = toPolicyVector(DEFAULT_CPU_POLICY);
    expect(v).toHaveLength(10);
    expect(fromPolicyVector(DEFAULT_CPU_POLICY, v)).toEqual(DEFAULT_CPU_POLICY);
    expect(fromParamRecord(DEFAULT_CPU_POLICY, toParamRecord(DEFAULT_CPU_POLICY, v))).toEqual(v);
    const wild = fromPolicyVector(
      DEFAULT_CPU_POLICY,
      v.map((x, k) => (k % 2 === 1 ? 50 : x)),
    );
    expect(Object.values(wild.params).every((p) => p.logStd === LOG_STD_RANGE.max)).toBe(true);
    expect(() => fromPolicyVector(DEFAULT_CPU_POLICY, [1])).toThrow(RangeError);
    expect(() => fromParamRecord(DEFAULT_CPU_POLICY, {})).toThrow(/threshold/);
  });

  it("scales a mean's step by its range and a log-std's by LOG_STD_STEP_SCALE", () => {
    const scale = computePolicyStepScale(DEFAULT_CPU_POLICY);
    expect(scale).toHaveLength(toPolicyVector(DEFAULT_CPU_POLICY).length);
    const names = Object.keys(DEFAULT_CPU_POLICY.params);
    expect(scale[2 * names.indexOf('pad')]).toBe(25);
    expect(scale[2 * names.indexOf('threshold')]).toBeCloseTo(0.94, 12);
    expect(scale.filter((_, k) => k % 2 === 1).every((s) => s === LOG_STD_STEP_SCALE)).toBe(true);
  });
});
