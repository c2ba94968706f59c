import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeAdvantages, computeDifficultyWeight } from '../groups/group-stats.js';
import { createRng } from '../random/rng.js';
import { computePolicyLogProb, DEFAULT_CPU_POLICY, type GaussianPolicy, samplePolicy } from './gaussian-policy.js';
import {
  computeGaussianLogProbGradient,
  computeGrpoGaussianLoss,
  type GaussianLossConfig,
  type GaussianLossSample,
  MAX_LOG_RATIO,
} from './grpo-gaussian-loss.js';
import { fromPolicyVector, toPolicyVector } from './policy-vector.js';

// The reference group of docs/method.md §5.5 (G = 8), as in group-stats.test.ts.
const R_LOC = [1, 0.742857, 0.4, 0, 0.971716, 0.1, 0, 0.6625];
const R_FMT = [1, 1, 1, 0, 1, 1, 0, 1];
const ADVANTAGES = computeAdvantages(R_LOC.map((l, i) => l + R_FMT[i]!));
const W = computeDifficultyWeight(R_LOC);
const RATIOS = [1.0, 1.5, 0.5, 0.5, 1.1, 1.0, 1.3, 0.9];
const CONFIG: GaussianLossConfig = { clipLow: 0.2, clipHigh: 0.2, beta: 0, temperature: 1 };

/** Samples whose sampling log-prob makes their ratio under `policy` exactly `ratios[i]`. */
function samplesWithRatios(
  policy: GaussianPolicy,
  ratios: readonly number[],
  advantages: readonly number[],
  seed = 1,
): GaussianLossSample[] {
  const rng = createRng(seed);
  return ratios.map((r, i) => {
    const sample = samplePolicy(rng, policy, 1);
    return { sample, samplingLogProb: computePolicyLogProb(policy, sample) - Math.log(r), advantage: advantages[i]!, weight: W };
  });
}

describe('computeGrpoGaussianLoss: docs/method.md §6 on the reference group (§5.5)', () => {
  it('matches the hand-computed clipped loss and clip fraction', () => {
    // min(rA, clip(r)A) per completion (ε = 0.2):
    //  .937476 | 1.2·.622508 = .747010 (clipped) | .5·.202552 = .101276 | .8·−1.51227 = −1.209816 (clipped)
    //  1.1·.902832 = .993115 | −.16491 | 1.3·−1.51227 = −1.965951 | .9·.524081 = .471673   → Σ = −.090127
    // w = ½(e^(1−.484634) + √1.375) = 1.423427;  L = −w·Σ/8 = 0.016036
    expect(W).toBeCloseTo(1.423427, 6);
    const result = computeGrpoGaussianLoss({
      policy: DEFAULT_CPU_POLICY,
      reference: null,
      samples: samplesWithRatios(DEFAULT_CPU_POLICY, RATIOS, ADVANTAGES),
      config: CONFIG,
    });
    expect(result.loss).toBeCloseTo(0.016036, 5);
    expect(result.clipped).toBe(2);
    expect(result.count).toBe(8);
    expect(result.kl).toBe(0);
  });

  it('is −w·mean(A) = 0 on-policy (ratio 1): the advantages are centred', () => {
    const result = computeGrpoGaussianLoss({
      policy: DEFAULT_CPU_POLICY,
      reference: null,
      samples: samplesWithRatios(
        DEFAULT_CPU_POLICY,
        RATIOS.map(() => 1),
        ADVANTAGES,
      ),
      config: CONFIG,
    });
    expect(result.loss).toBeCloseTo(0, 9);
    expect(result.clipped).toBe(0);
  });

  it('gives zero loss and gradient for no samples', () => {
    const result = computeGrpoGaussianLoss({ policy: DEFAULT_CPU_POLICY, reference: null, samples: [], config: CONFIG });
    expect(result).toEqual({ loss: 0, gradient: new Array(10).fill(0), clipped: 0, kl: 0, count: 0 });
  });

  it('has no surrogate gradient from clipped samples, and keeps the loss finite for a stale sample', () => {
    const [clippedUp] = samplesWithRatios(DEFAULT_CPU_POLICY, [1.5], [1]);
    const up = computeGrpoGaussianLoss({ policy: DEFAULT_CPU_POLICY, reference: null, samples: [clippedUp!], config: CONFIG });
    expect(up.loss).toBeCloseTo(-1.2 * W, 9);
    expect(up.gradient.every((g) => g === 0)).toBe(true);
    const stale = { ...clippedUp!, samplingLogProb: clippedUp!.samplingLogProb - 1000, advantage: -1 };
    const far = computeGrpoGaussianLoss({ policy: DEFAULT_CPU_POLICY, reference: null, samples: [stale], config: CONFIG });
    expect(far.loss).toBeCloseTo(W * Math.exp(MAX_LOG_RATIO), 0);
  });

  it('adds β·k3 against the reference, zero at the reference itself', () => {
    const samples = samplesWithRatios(DEFAULT_CPU_POLICY, RATIOS, ADVANTAGES);
    const same = computeGrpoGaussianLoss({
      policy: DEFAULT_CPU_POLICY,
      reference: DEFAULT_CPU_POLICY,
      samples,
      config: { ...CONFIG, beta: 0.1 },
    });
    expect(same.kl).toBeCloseTo(0, 12);
    const moved = fromPolicyVector(
      DEFAULT_CPU_POLICY,
      toPolicyVector(DEFAULT_CPU_POLICY).map((v) => v + 0.05),
    );
    const withKl = computeGrpoGaussianLoss({ policy: moved, reference: DEFAULT_CPU_POLICY, samples, config: { ...CONFIG, beta: 0.1 } });
    const without = computeGrpoGaussianLoss({ policy: moved, reference: DEFAULT_CPU_POLICY, samples, config: CONFIG });
    expect(withKl.kl).toBeGreaterThan(0);
    expect(without.kl).toBeCloseTo(withKl.kl, 12);
    expect(withKl.loss - without.loss).toBeCloseTo(0.1 * withKl.kl, 12);
  });
});

describe('gradients', () => {
  it('match the log-density: ∂/∂μ = z/s and ∂/∂logStd = z² − 1', () => {
    const one: GaussianPolicy = { version: 0, params: { a: { mean: 1, logStd: Math.log(2), min: -9, max: 9 } } };
    const { logProb, gradient } = computeGaussianLogProbGradient(one, { a: 3 }, 0.5);
    expect(logProb).toBeCloseTo(computePolicyLogProb(one, { a: 3 }, 0.5), 12);
    // s = 2·0.5 = 1, z = 2
    expect(gradient[0]).toBeCloseTo(2, 12);
    expect(gradient[1]).toBeCloseTo(3, 12);
    expect(() => computeGaussianLogProbGradient(one, {})).toThrow(/"a"/);
  });

  it('agree with central finite differences of the loss (clipping, weights, KL, temperature)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.double({ min: 0.5, max: 1.5, noNaN: true }),
        (seed, beta, temperature) => {
          const rng = createRng(seed);
          const start = toPolicyVector(DEFAULT_CPU_POLICY).map((v) => v + 0.1 * rng.normal());
          const policy = fromPolicyVector(DEFAULT_CPU_POLICY, start);
          // A reference near the policy, as β keeps it: d = log π_ref − log π_θ stays inside ±MAX_LOG_RATIO.
          const reference = fromPolicyVector(
            DEFAULT_CPU_POLICY,
            start.map((v) => v + 0.01 * rng.normal()),
          );
          const config = { ...CONFIG, beta, temperature };
          const samples = Array.from({ length: 6 }, (_, i) => {
            const sample = samplePolicy(rng, policy, temperature);
            const ratio = 0.6 + rng.next() * 0.8;
            return {
              sample,
              samplingLogProb: computePolicyLogProb(policy, sample, temperature) - Math.log(ratio),
              advantage: rng.normal(),
              weight: 1 + i / 5,
            };
          });
          const lossAt = (v: readonly number[]) =>
            computeGrpoGaussianLoss({ policy: fromPolicyVector(policy, v), reference, samples, config }).loss;
          const { gradient } = computeGrpoGaussianLoss({ policy, reference, samples, config });
          // Finite differences across a clip boundary are meaningless: skip draws with a ratio near one
          // (a step of h moves a log-ratio by up to ~1e-3 here: ∂log π/∂μ = z/s with s down to ~0.02).
          const nearKink = samples.some((x) => {
            const r = Math.exp(computePolicyLogProb(policy, x.sample, temperature) - x.samplingLogProb);
            return Math.abs(r - 0.8) < 0.02 || Math.abs(r - 1.2) < 0.02;
          });
          fc.pre(!nearKink);
          const h = 1e-6;
          start.forEach((_, k) => {
            const plus = [...start];
            const minus = [...start];
            plus[k] = plus[k]! + h;
            minus[k] = minus[k]! - h;
            const numeric = (lossAt(plus) - lossAt(minus)) / (2 * h);
            expect(Math.abs(gradient[k]! - numeric)).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
