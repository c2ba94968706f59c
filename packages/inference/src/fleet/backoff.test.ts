import { createRng } from '@differad/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeBackoffMs } from './backoff.js';

describe('computeBackoffMs', () => {
  it('stays within [cap/2, cap] of an exponential cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer(), (attempt, seed) => {
        const cap = Math.min(5_000, 100 * 2 ** (attempt - 1));
        const d = computeBackoffMs(attempt, { backoffBaseMs: 100, backoffMaxMs: 5_000 }, createRng(seed));
        return d >= cap / 2 && d <= cap;
      }),
    );
  });

  it('is reproducible from the generator seed', () => {
    const a = [1, 2, 3].map((k) => computeBackoffMs(k, { backoffBaseMs: 10, backoffMaxMs: 1_000 }, createRng('s')));
    const b = [1, 2, 3].map((k) => computeBackoffMs(k, { backoffBaseMs: 10, backoffMaxMs: 1_000 }, createRng('s')));
    expect(a).toEqual(b);
  });
});
