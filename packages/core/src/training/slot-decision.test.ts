import { describe, expect, it } from 'vitest';
import { drawStepPairs, toSamplingSeed } from './draw-pairs.js';
import type { ScoredGroup } from './score-group.js';
import { decideSlot, MAX_REPLACEMENTS_PER_SLOT, type SlotPosition, type SlotRules } from './slot-decision.js';

const position: SlotPosition = { seed: 11, step: 3, slot: 1, pairsPerStep: 4, datasetSize: 40 };

/** A scored sampling told apart by its attempt: advantages [a, −a], weight 1 + a/10. */
function sampling(attempt: number, degenerate: boolean): ScoredGroup {
  return {
    formatRewards: [1, 1],
    locRewards: [0, 0],
    rewards: [1, 1],
    ious: [0, 0],
    advantages: [attempt, -attempt],
    weight: 1 + attempt / 10,
    degenerate,
    valid: 2,
  };
}

/** The slot after scoring `degenerate.length` samplings (attempts 0…n−1), the last one just now. */
function decide(
  degenerate: readonly boolean[],
  rules: Partial<SlotRules> = {},
  replacements: ReadonlyMap<number, number> = new Map(),
  at: SlotPosition = position,
) {
  const attempt = degenerate.length - 1;
  const scores = new Map(degenerate.map((d, a) => [a, sampling(a, d)]));
  return decideSlot(
    at,
    { attempt, degenerate: degenerate[attempt]!, scores, replacements },
    { maxResamples: 2, onExhausted: 'keep', weightFrom: 'first', ...rules },
  );
}

const D = true;
const ok = false;

describe('decideSlot (docs/method.md §5.3–§5.4)', () => {
  it.each([
    { name: 'a group that is not degenerate is kept at once', samplings: [ok], rules: {}, kind: 'keep' },
    { name: 'a degenerate group is sampled again', samplings: [D], rules: {}, kind: 'resample' },
    { name: 'the last resample (resamples done = maxResamples − 1)', samplings: [D, D], rules: {}, kind: 'resample' },
    { name: 'exhausted with keep: the last sampling is kept', samplings: [D, D, D], rules: { onExhausted: 'keep' }, kind: 'keep' },
    { name: 'exhausted with replace: a fresh pair', samplings: [D, D, D], rules: { onExhausted: 'replace' }, kind: 'replace' },
    { name: 'a resample that is not degenerate ends the slot', samplings: [D, ok], rules: { onExhausted: 'replace' }, kind: 'keep' },
    { name: 'maxResamples 0 with keep: kept after one sampling', samplings: [D], rules: { maxResamples: 0 }, kind: 'keep' },
    {
      name: 'maxResamples 0 with replace: replaced after one sampling',
      samplings: [D],
      rules: { maxResamples: 0, onExhausted: 'replace' },
      kind: 'replace',
    },
  ] as const)('$name → $kind', ({ samplings, rules, kind }) => {
    expect(decide(samplings, rules).kind).toBe(kind);
  });

  it("samples again as the next attempt, with that attempt's seed", () => {
    expect(decide([D, D])).toEqual({ kind: 'resample', attempt: 2, seed: toSamplingSeed(11, 3, 1, 2) });
  });

  it("keeps the last sampling's advantages and the first one's weight (or the last's with weightFrom final), counting the extra samplings", () => {
    expect(decide([D, D, D])).toEqual({ kind: 'keep', final: { advantages: [2, -2], weight: 1 }, resamples: 2, replacements: 0 });
    expect(decide([D, D, D], { weightFrom: 'final' })).toMatchObject({ final: { advantages: [2, -2], weight: 1.2 } });
  });

  it('replaces with a pair neither of the step nor had by the slot, as the next attempt with its seed', () => {
    const d = decide([D, D, D], { onExhausted: 'replace' });
    if (d.kind !== 'replace') throw new Error(`expected replace, got ${d.kind}`);
    expect(d.attempt).toBe(3);
    expect(d.seed).toBe(toSamplingSeed(11, 3, 1, 3));
    expect(drawStepPairs(11, 3, 4, 40)).not.toContain(d.pair);
    // The same inputs draw the same pair: a rerun samples what the first run did.
    expect(decide([D, D, D], { onExhausted: 'replace' })).toEqual(d);
  });

  it('restarts the resample count for a replacement pair, and never draws a pair the slot has had', () => {
    const first = decide([D, D, D], { onExhausted: 'replace' });
    if (first.kind !== 'replace') throw new Error('expected replace');
    const marks = new Map([[3, first.pair]]);
    // Attempt 3 is the replacement's first sampling: degenerate, it is resampled, not replaced.
    expect(decide([D, D, D, D], { onExhausted: 'replace' }, marks)).toMatchObject({ kind: 'resample', attempt: 4 });
    expect(decide([D, D, D, D, D], { onExhausted: 'replace' }, marks)).toMatchObject({ kind: 'resample', attempt: 5 });
    const second = decide([D, D, D, D, D, D], { onExhausted: 'replace' }, marks);
    expect(second).toMatchObject({ kind: 'replace', attempt: 6 });
    if (second.kind === 'replace') expect([first.pair, ...drawStepPairs(11, 3, 4, 40)]).not.toContain(second.pair);
  });

  it("keeps a replacement pair's group with the advantages and weight of that pair's samplings only", () => {
    const marks = new Map([[3, 30]]);
    expect(decide([D, D, D, D, ok], { onExhausted: 'replace' }, marks)).toEqual({
      kind: 'keep',
      final: { advantages: [4, -4], weight: 1.3 },
      resamples: 3,
      replacements: 1,
    });
  });

  it(`keeps the group anyway after ${MAX_REPLACEMENTS_PER_SLOT} replacements, so a step always ends`, () => {
    // Pairs 1 + 4 replacements, each sampled once (maxResamples 0): attempts 0…4, the replacements at 1…4.
    const marks = new Map([1, 2, 3, 4].map((a) => [a, 30 + a]));
    expect(decide([D, D, D, D], { maxResamples: 0, onExhausted: 'replace' }, new Map([...marks].slice(0, 3)))).toMatchObject({
      kind: 'replace',
      attempt: 4,
    });
    expect(decide([D, D, D, D, D], { maxResamples: 0, onExhausted: 'replace' }, marks)).toEqual({
      kind: 'keep',
      final: { advantages: [4, -4], weight: 1.4 },
      resamples: 0,
      replacements: 4,
    });
  });

  it('keeps the group when no pair is left to draw (every pair of the manifest is in the step)', () => {
    const small = { ...position, pairsPerStep: 4, datasetSize: 4 };
    expect(decide([D, D, D], { onExhausted: 'replace' }, new Map(), small)).toEqual({
      kind: 'keep',
      final: { advantages: [2, -2], weight: 1 },
      resamples: 2,
      replacements: 0,
    });
  });
});
