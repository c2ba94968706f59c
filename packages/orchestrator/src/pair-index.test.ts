import type { ManifestRecord } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { indexPairs, recordOf } from './pair-index.js';

const pair = (id: string, n: number): ManifestRecord => ({
  id,
  class: 'bottle',
  reference: `r${n}.png`,
  target: `t${n}.png`,
  width: 8,
  height: 8,
  box: null,
});

describe('the pair index', () => {
  it('finds each record by id, as a search of the manifest would, and nothing for an id the manifest lacks', () => {
    const records = Array.from({ length: 1_000 }, (_, i) => pair(`pair-${i}`, i));
    const pairs = { records, pairIndex: indexPairs(records) };
    for (const id of ['pair-0', 'pair-517', 'pair-999']) expect(recordOf(pairs, id)).toBe(records.find((r) => r.id === id));
    expect(recordOf(pairs, 'pair-1000')).toBeUndefined();
    expect(pairs.pairIndex.get('pair-517')).toBe(records.findIndex((r) => r.id === 'pair-517'));
    expect(pairs.pairIndex.get('nope') ?? -1).toBe(-1);
  });

  it('keeps the first position of an id given twice, as find does', () => {
    const records = [pair('a', 1), pair('a', 2)];
    expect(recordOf({ records, pairIndex: indexPairs(records) }, 'a')?.reference).toBe('r1.png');
  });
});
