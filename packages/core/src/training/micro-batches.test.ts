import { describe, expect, it } from 'vitest';
import { planMicroBatches } from './micro-batches.js';

/** A group named by a letter, with the token count of each of its completions. */
interface G {
  readonly id: string;
  readonly tokens: readonly number[];
}
const groups = (n: number): G[] => Array.from({ length: n }, (_, i) => ({ id: String.fromCharCode(97 + i), tokens: [2, 3, 7] }));
const ids = (plan: ReturnType<typeof planMicroBatches<G>>) => plan.batches.map((b) => b.map((g) => g.id).join(''));

describe('planMicroBatches (docs/method.md §6.3)', () => {
  it.each([
    { groups: 5, size: 2, batches: ['ab', 'cd', 'e'], name: 'a remainder goes in a short last micro-batch' },
    { groups: 4, size: 2, batches: ['ab', 'cd'], name: 'an exact multiple has no short micro-batch' },
    { groups: 3, size: 4, batches: ['abc'], name: 'fewer groups than the size make one micro-batch' },
    { groups: 4, size: 4, batches: ['abcd'], name: 'as many groups as the size make one micro-batch' },
    { groups: 3, size: 1, batches: ['a', 'b', 'c'], name: 'size 1 sends one group per micro-batch' },
    { groups: 0, size: 4, batches: [], name: 'no groups make no micro-batch' },
  ])('$name: $groups groups by $size → $batches', ({ groups: n, size, batches }) => {
    expect(ids(planMicroBatches(groups(n), size, (g) => g.tokens))).toEqual(batches);
  });

  it('counts every completion and token of the step, whatever the split', () => {
    for (const size of [1, 2, 3, 5, 8]) {
      const plan = planMicroBatches(groups(5), size, (g) => g.tokens);
      expect({ sequences: plan.stepSequences, tokens: plan.stepTokens }).toEqual({ sequences: 15, tokens: 60 });
    }
  });

  it('refuses a micro-batch size that is not an integer ≥ 1 instead of looping or sending nothing', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => planMicroBatches(groups(2), size, (g) => g.tokens)).toThrow(RangeError);
  });
});
