import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeAdvantages, computeDifficultyWeight, computeMean, computeStd, decideResample, isDegenerateGroup } from './group-stats.js';

function expectAllClose(actual: readonly number[], expected: readonly number[], digits = 6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
}

// The reference group of docs/method.md §5.5 (G = 8).
const R_LOC = [1, 0.742857, 0.4, 0, 0.971716, 0.1, 0, 0.6625];
const R_FMT = [1, 1, 1, 0, 1, 1, 0, 1];
const R = R_LOC.map((l, i) => l + R_FMT[i]!);

describe('mean and std', () => {
  it('computes the mean, unbiased and population std', () => {
    expect(computeMean([1, 2, 3, 4])).toBe(2.5);
    expect(computeStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(computeStd([1, 2, 3, 4], 'population')).toBeCloseTo(Math.sqrt(5 / 4), 12);
  });

  it('is 0 for fewer than two values, and the mean of nothing is 0', () => {
    expect(computeStd([])).toBe(0);
    expect(computeStd([7])).toBe(0);
    expect(computeMean([])).toBe(0);
  });
});

describe('computeAdvantages', () => {
  it('matches the reference group with the unbiased std (default)', () => {
    expectAllClose(computeAdvantages(R), [0.937476, 0.622508, 0.202552, -1.51227, 0.902832, -0.16491, -1.51227, 0.524081]);
    expectAllClose(computeAdvantages(R, { mode: 'unbiased' }), computeAdvantages(R), 12);
  });

  it('uses the population std as an option', () => {
    expectAllClose(
      computeAdvantages(R, { mode: 'population' }),
      [1.002195, 0.665484, 0.216536, -1.616671, 0.965159, -0.176294, -1.616671, 0.560262],
    );
  });

  it('only centres the rewards with mode none', () => {
    // mean(R) = 9.877073 / 8 = 1.234634125
    expectAllClose(
      computeAdvantages(R, { mode: 'none' }),
      R.map((r) => r - 1.234634125),
      9,
    );
  });

  it('gives zero advantages, not NaN, for a group of identical rewards', () => {
    for (const mode of ['unbiased', 'population', 'none'] as const) {
      expect(computeAdvantages([1.4, 1.4, 1.4, 1.4], { mode }).every((a) => Math.abs(a) < 1e-9)).toBe(true);
    }
  });

  it('uses ε from the options', () => {
    // std of [0, 2] (unbiased) = √2; with ε = 1: (2 − 1) / (√2 + 1).
    expect(computeAdvantages([0, 2], { epsilon: 1 })[1]).toBeCloseTo(1 / (Math.SQRT2 + 1), 12);
  });

  it('advantages sum to zero and keep the order of the rewards', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: 2, maxLength: 16 }), (rewards) => {
        const a = computeAdvantages(rewards);
        expect(Math.abs(a.reduce((s, v) => s + v, 0))).toBeLessThan(1e-6);
        for (let i = 0; i < rewards.length; i++) {
          for (let j = 0; j < rewards.length; j++) {
            if (rewards[i]! > rewards[j]!) expect(a[i]!).toBeGreaterThanOrEqual(a[j]!);
          }
        }
      }),
    );
  });
});

describe('computeDifficultyWeight', () => {
  it('matches the reference group (τ = 0.3 on R_loc)', () => {
    expect(computeDifficultyWeight(R_LOC, { tau: 0.3 })).toBeCloseTo(1.423427, 6);
    expect(computeDifficultyWeight(R_LOC)).toBeCloseTo(1.423427, 6);
  });

  it('is 1.411059 for a group all at 0.4 and 1 for an all-correct group', () => {
    expect(computeDifficultyWeight(Array(8).fill(0.4))).toBeCloseTo(1.411059, 6);
    expect(computeDifficultyWeight(Array(8).fill(1))).toBeCloseTo(1, 12);
  });

  it('is at its maximum ½(e + √2) for an all-wrong group', () => {
    expect(computeDifficultyWeight(Array(8).fill(0))).toBeCloseTo(0.5 * (Math.E + Math.SQRT2), 12);
  });

  it('thresholds R_loc strictly below τ', () => {
    // 0.3 is not a miss at τ = 0.3; at τ = 0.5 all of them are.
    const group = Array(4).fill(0.3);
    expect(computeDifficultyWeight(group)).toBeCloseTo(0.5 * Math.exp(0.7) + 0.5, 12);
    expect(computeDifficultyWeight(group, { tau: 0.5 })).toBeCloseTo(0.5 * (Math.exp(0.7) + Math.SQRT2), 12);
  });

  it('stays within [1, 2.066] for rewards in [0, 1]', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 16 }), (loc) => {
        const w = computeDifficultyWeight(loc);
        expect(w).toBeGreaterThanOrEqual(1 - 1e-12);
        expect(w).toBeLessThanOrEqual(2.0663);
      }),
    );
  });
});

describe('isDegenerateGroup', () => {
  it('the reference group is not degenerate', () => {
    expect(isDegenerateGroup(R_LOC)).toBe(false);
  });

  it('a constant group below 1 is degenerate', () => {
    expect(isDegenerateGroup(Array(8).fill(0.4))).toBe(true);
    expect(isDegenerateGroup(Array(8).fill(0))).toBe(true);
  });

  it('an all-correct group is not degenerate', () => {
    expect(isDegenerateGroup(Array(8).fill(1))).toBe(false);
  });

  it('uses the std threshold', () => {
    const nearlyConstant = [0.4, 0.4, 0.4, 0.4001];
    expect(isDegenerateGroup(nearlyConstant)).toBe(false);
    expect(isDegenerateGroup(nearlyConstant, { stdThreshold: 1e-3 })).toBe(true);
  });
});

describe('decideResample', () => {
  const base = { degenerate: true, resamplesDone: 0, maxResamples: 2, onExhausted: 'keep' as const };

  it('keeps a non-degenerate group', () => {
    expect(decideResample({ ...base, degenerate: false })).toBe('keep');
    expect(decideResample({ ...base, degenerate: false, onExhausted: 'replace' })).toBe('keep');
  });

  it('resamples a degenerate group while rounds remain', () => {
    expect(decideResample({ ...base, resamplesDone: 0 })).toBe('resample');
    expect(decideResample({ ...base, resamplesDone: 1 })).toBe('resample');
  });

  it('applies the exhausted policy once maxResamples extra rounds were made', () => {
    expect(decideResample({ ...base, resamplesDone: 2 })).toBe('keep');
    expect(decideResample({ ...base, resamplesDone: 2, onExhausted: 'replace' })).toBe('replace');
  });

  it('applies the policy immediately when maxResamples is 0', () => {
    expect(decideResample({ ...base, maxResamples: 0 })).toBe('keep');
    expect(decideResample({ ...base, maxResamples: 0, onExhausted: 'replace' })).toBe('replace');
  });

  it('does at most maxResamples extra rounds in a loop', () => {
    for (const maxResamples of [0, 1, 2, 5]) {
      let rounds = 0;
      while (decideResample({ ...base, resamplesDone: rounds, maxResamples, onExhausted: 'replace' }) === 'resample') {
        rounds++;
      }
      expect(rounds).toBe(maxResamples);
    }
  });
});
