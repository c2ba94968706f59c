import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCORE_SETTINGS } from '../scoring/score-sample.js';
import { createRng } from '../random/rng.js';
import type { ManifestRecord } from '../records/records.js';
import { drawReplacementPair, drawStepPairs, toSamplingSeed } from './draw-pairs.js';
import { computeStepRewardStats, finalizeGroup, scoreGroup } from './score-group.js';

const record: ManifestRecord = {
  id: 'p1',
  class: 'c',
  reference: 'r.png',
  target: 't.png',
  width: 100,
  height: 100,
  box: [10, 10, 20, 20],
};
const grpo = { advantage: 'unbiased' as const, advantageEpsilon: 1e-4, degenerateStd: 1e-6, difficultyWeighting: true };
const answer = (box: string) => `<think>x</think><answer>${box}</answer>`;

describe('scoreGroup', () => {
  it('scores a varied group: rewards, advantages with zero mean, the difficulty weight', () => {
    const g = scoreGroup(
      [answer('(100,100),(200,200)'), answer('(150,150),(250,250)'), answer('(0,0),(0,0)'), 'garbage'],
      record,
      DEFAULT_SCORE_SETTINGS,
      grpo,
    );
    expect(g.locRewards[0]).toBe(1);
    expect(g.locRewards[1]).toBeCloseTo(0.322857, 6);
    expect(g.locRewards.slice(2)).toEqual([0, 0]);
    expect(g.formatRewards).toEqual([1, 1, 1, 0]);
    expect(g.rewards[0]).toBe(2);
    expect(g.advantages.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 9);
    expect(g.degenerate).toBe(false);
    expect(g.valid).toBe(3);
    expect(g.weight).toBeGreaterThan(1);
    expect(g.ious).toEqual([1, expect.closeTo(1 / 7, 6), 0, 0]);
  });

  it('marks a group whose answers all miss the same way as degenerate, and keeps it with zero advantages', () => {
    const same = Array.from({ length: 8 }, () => answer('(0,0),(0,0)'));
    const g = scoreGroup(same, record, DEFAULT_SCORE_SETTINGS, grpo);
    expect(g.degenerate).toBe(true);
    const final = finalizeGroup([g], 'first');
    expect(final.advantages).toEqual(Array(8).fill(0));
    expect(final.weight).toBeCloseTo(0.5 * (Math.E + Math.sqrt(2)), 9);
  });

  it('keeps a degenerate group with the advantages of its total reward, so a varying format reward still teaches', () => {
    const mixed = [...Array.from({ length: 4 }, () => answer('(0,0),(0,0)')), ...Array.from({ length: 4 }, () => '(0,0),(0,0)')];
    const g = scoreGroup(mixed, record, DEFAULT_SCORE_SETTINGS, grpo);
    expect(g.degenerate).toBe(true);
    expect(g.formatRewards).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    const final = finalizeGroup([g], 'first');
    expect(final.advantages).toEqual(g.advantages);
    expect(final.advantages[0]).toBeGreaterThan(0.9);
    expect(final.advantages[7]).toBeLessThan(-0.9);
  });

  it('takes the difficulty weight from the first sampling unless told otherwise', () => {
    const hard = scoreGroup(
      Array.from({ length: 4 }, () => answer('(0,0),(0,0)')),
      record,
      DEFAULT_SCORE_SETTINGS,
      grpo,
    );
    const easier = scoreGroup([answer('(100,100),(200,200)'), answer('(0,0),(0,0)')], record, DEFAULT_SCORE_SETTINGS, grpo);
    expect(finalizeGroup([hard, easier], 'first').weight).toBe(hard.weight);
    expect(finalizeGroup([hard, easier], 'final').weight).toBe(easier.weight);
    expect(finalizeGroup([hard, easier], 'final').advantages).toEqual(easier.advantages);
    expect(() => finalizeGroup([], 'first')).toThrow();
  });

  it('summarizes a step over its groups', () => {
    const a = scoreGroup([answer('(100,100),(200,200)'), answer('(0,0),(0,0)')], record, DEFAULT_SCORE_SETTINGS, grpo);
    const b = scoreGroup([answer('(0,0),(0,0)'), answer('(0,0),(0,0)')], record, DEFAULT_SCORE_SETTINGS, grpo);
    const stats = computeStepRewardStats([
      { final: a, weight: 1.2 },
      { final: b, weight: 1.8 },
    ]);
    expect(stats.reward_mean).toBeCloseTo((2 + 1 + 1 + 1) / 4, 9);
    expect(stats.format_rate).toBe(1);
    expect(stats.frac_degenerate).toBe(0.5);
    expect(stats.weight_mean).toBeCloseTo(1.5, 9);
  });
});

describe('pair drawing', () => {
  it('visits every pair once per epoch, reproducibly', () => {
    const n = 10;
    const epoch0 = [0, 1, 2, 3, 4].flatMap((s) => drawStepPairs(7, s, 2, n));
    expect([...epoch0].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(drawStepPairs(7, 3, 2, n)).toEqual(drawStepPairs(7, 3, 2, n));
    expect(drawStepPairs(8, 0, 10, n)).not.toEqual(drawStepPairs(7, 0, 10, n));
    expect(() => drawStepPairs(1, 0, 2, 0)).toThrow(/empty/);
  });

  it('draws exactly what a fresh shuffle per call draws, whatever order the calls come in (the permutations kept are only a cache)', () => {
    // The draw as it was before permutations were kept: a fresh Fisher–Yates per call.
    const fresh = (seed: string, n: number) => {
      const rng = createRng(seed);
      const out = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    };
    const expected = (seed: number, step: number, per: number, n: number) =>
      Array.from({ length: per }, (_, k) => {
        const g = step * per + k;
        return fresh(`${seed}/epoch/${Math.floor(g / n)}`, n)[g % n]!;
      });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ seed: fc.integer({ min: 0, max: 3 }), step: fc.integer({ min: 0, max: 40 }), n: fc.constantFrom(7, 10, 64) }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        (calls) => {
          for (const { seed, step, n } of calls) {
            expect(drawStepPairs(seed, step, 4, n)).toEqual(expected(seed, step, 4, n));
            // A replacement draw in between makes and keeps another permutation.
            const stepPairs = expected(seed, step, 4, n);
            const candidates = fresh(`${seed}/replace/${step}`, n).filter((i) => !stepPairs.includes(i));
            expect(drawReplacementPair({ seed, step, stepPairs, slot: 0, previous: [], perSlot: 1, datasetSize: n })).toBe(
              candidates[0] ?? null,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('draws sampling seeds deterministically', () => {
    expect(toSamplingSeed(1, 2, 3, 0)).toBe(toSamplingSeed(1, 2, 3, 0));
    expect(toSamplingSeed(1, 2, 3, 1)).not.toBe(toSamplingSeed(1, 2, 3, 0));
  });
});

/** Every replacement each slot of a step draws, in order, as the score worker asks for them. */
function drawAllReplacements(seed: number, step: number, datasetSize: number, pairsPerStep: number, perSlot: number): (number | null)[][] {
  const stepPairs = drawStepPairs(seed, step, pairsPerStep, datasetSize);
  return stepPairs.map((drawn, slot) => {
    const previous = [drawn];
    const out: (number | null)[] = [];
    for (let k = 0; k < perSlot; k++) {
      const pick = drawReplacementPair({ seed, step, stepPairs, slot, previous, perSlot, datasetSize });
      out.push(pick);
      if (pick === null) break;
      previous.push(pick);
    }
    return out;
  });
}

describe('drawReplacementPair', () => {
  const setting = fc.record({
    seed: fc.integer({ min: 0, max: 0xffff_ffff }),
    step: fc.integer({ min: 0, max: 500 }),
    datasetSize: fc.integer({ min: 1, max: 60 }),
    pairsPerStep: fc.integer({ min: 1, max: 8 }),
    perSlot: fc.integer({ min: 1, max: 4 }),
  });

  it('never draws a pair of the step or one the slot has had, and is null only when none is left', () => {
    fc.assert(
      fc.property(setting, ({ seed, step, datasetSize, pairsPerStep, perSlot }) => {
        const size = Math.min(pairsPerStep, datasetSize);
        const stepPairs = drawStepPairs(seed, step, size, datasetSize);
        for (const [slot, draws] of drawAllReplacements(seed, step, datasetSize, size, perSlot).entries()) {
          const had = [stepPairs[slot]!];
          for (const pick of draws) {
            const left = Array.from({ length: datasetSize }, (_, i) => i).filter((i) => !stepPairs.includes(i) && !had.includes(i));
            if (pick === null) {
              expect(left).toEqual([]);
              continue;
            }
            expect(pick).toBeGreaterThanOrEqual(0);
            expect(pick).toBeLessThan(datasetSize);
            expect(stepPairs).not.toContain(pick);
            expect(had).not.toContain(pick);
            had.push(pick);
          }
        }
      }),
    );
  });

  it('gives two slots different pairs while the dataset has enough, the same draws for the same seed, others for another', () => {
    fc.assert(
      fc.property(setting, ({ seed, step, pairsPerStep, perSlot }) => {
        const datasetSize = pairsPerStep * (perSlot + 1);
        const all = drawAllReplacements(seed, step, datasetSize, pairsPerStep, perSlot);
        const flat = all.flat();
        expect(flat).not.toContain(null);
        expect(new Set(flat).size).toBe(flat.length);
        expect(drawAllReplacements(seed, step, datasetSize, pairsPerStep, perSlot)).toEqual(all);
      }),
    );
    const draws = (seed: number) => drawAllReplacements(seed, 3, 200, 8, 4);
    expect(draws(1)).not.toEqual(draws(2));
  });
});
