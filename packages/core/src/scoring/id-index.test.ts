import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeIdHash, createIdIndex } from './id-index.js';

/** Two different ids with the same 32-bit hash, found by a birthday search. */
function findCollision(prefix: string): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `${prefix}${i}`;
    const h = computeIdHash(id);
    const other = seen.get(h);
    if (other !== undefined) return [other, id];
    seen.set(h, id);
  }
}

describe('createIdIndex', () => {
  it('answers exactly as a Map of first positions, for any strings (lone surrogates and astral characters included)', () => {
    const id = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('\uD800', '\uDFFF', '\uFFFD', '😀', 'é', 'e\u0301', ''),
    );
    fc.assert(
      fc.property(fc.array(id, { maxLength: 300 }), fc.array(id, { maxLength: 50 }), (added, asked) => {
        const index = createIdIndex();
        const map = new Map<string, number>();
        for (const a of added) {
          const first = map.get(a);
          expect(index.add(a)).toBe(first ?? -1);
          if (first === undefined) map.set(a, map.size);
        }
        expect(index.size).toBe(map.size);
        for (const a of [...added, ...asked]) expect(index.get(a)).toBe(map.get(a));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps apart different ids whose hashes are equal', () => {
    const [a, b] = findCollision('sample-');
    expect(a).not.toBe(b);
    expect(computeIdHash(a)).toBe(computeIdHash(b));
    const index = createIdIndex();
    expect(index.add(a)).toBe(-1);
    expect(index.get(b)).toBeUndefined();
    expect(index.add('other')).toBe(-1);
    expect(index.add(b)).toBe(-1);
    expect([a, 'other', b].map((id) => index.get(id))).toEqual([0, 1, 2]);
    expect(index.add(b)).toBe(2);
    expect(index.add(a)).toBe(0);
  });

  it('holds 200,000 ids through its growth, sized or not', () => {
    for (const expected of [0, 200_000]) {
      const index = createIdIndex(expected);
      for (let i = 0; i < 200_000; i++) index.add(`s${i}`);
      expect(index.size).toBe(200_000);
      let misplaced = 0;
      for (let i = 0; i < 200_000; i++) if (index.get(`s${i}`) !== i) misplaced++;
      expect(misplaced).toBe(0);
      expect(index.get('s200000')).toBeUndefined();
    }
  });
});
