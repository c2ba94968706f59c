import { describe, expect, it } from 'vitest';
import { createRng } from '../random/rng.js';
import {
  clampPolicyValue,
  computePolicyLogProb,
  DEFAULT_CPU_POLICY,
  formatPolicySample,
  GaussianPolicySchema,
  parsePolicySample,
  samplePolicy,
} from './gaussian-policy.js';

const policy = DEFAULT_CPU_POLICY;

describe('the CPU policy', () => {
  it('returns the means at temperature 0 and spreads samples by std·T otherwise', () => {
    const mean = samplePolicy(createRng(1), policy, 0);
    expect(mean.threshold).toBe(policy.params.threshold!.mean);
    const rng = createRng(2);
    const values = Array.from({ length: 4000 }, () => samplePolicy(rng, policy, 1).threshold!);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
    expect(m).toBeCloseTo(policy.params.threshold!.mean, 2);
    expect(sd).toBeCloseTo(Math.exp(policy.params.threshold!.logStd), 2);
  });

  it('computes the log-probability of a sample as a sum of Gaussian log-densities', () => {
    const one = { version: 0, params: { a: { mean: 1, logStd: Math.log(2), min: -10, max: 10 } } };
    // log N(2; 1, 2) = −½·(0.5)² − log 2 − ½·log 2π
    expect(computePolicyLogProb(one, { a: 2 })).toBeCloseTo(-0.125 - Math.log(2) - 0.5 * Math.log(2 * Math.PI), 12);
    expect(computePolicyLogProb(one, { a: 2 }, 0.5)).toBeCloseTo(-0.5 - Math.log(1) - 0.5 * Math.log(2 * Math.PI), 12);
    expect(() => computePolicyLogProb(one, {})).toThrow(/"a"/);
  });

  it('writes a sample into text and reads the same values back', () => {
    const sample = samplePolicy(createRng(3), policy, 1);
    const text = `<think>I compared the images with ${formatPolicySample(sample)}.</think><answer>(0,0),(0,0)</answer>`;
    const back = parsePolicySample(text, policy);
    for (const [k, v] of Object.entries(sample)) expect(back![k]).toBeCloseTo(v, 6);
    expect(parsePolicySample('<think>threshold=0.1</think>', policy)).toBeNull();
  });

  it('clamps values to the parameter range and validates policy files', () => {
    expect(clampPolicyValue(policy, 'threshold', -3)).toBe(policy.params.threshold!.min);
    expect(clampPolicyValue(policy, 'threshold', 0.2)).toBe(0.2);
    expect(() => clampPolicyValue(policy, 'nope', 1)).toThrow(/nope/);
    expect(GaussianPolicySchema.safeParse(policy).success).toBe(true);
    expect(GaussianPolicySchema.safeParse({ version: 1, params: { threshold: { mean: 'x' } } }).success).toBe(false);
  });
});
