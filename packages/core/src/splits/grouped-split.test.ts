import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random/rng.js';
import { SPLIT_PARTS, splitByGroups, toGroupKey, toTargetCount } from './grouped-split.js';

/** Group keys of n records: each record picks one of `groups` keys. */
const keysArb = fc.integer({ min: 1, max: 40 }).chain((groups) =>
  fc.array(
    fc.integer({ min: 0, max: groups - 1 }).map((g) => `g${g}`),
    { minLength: 1, maxLength: 120 },
  ),
);
const caseArb = keysArb.chain((keys) =>
  fc
    .record({
      keys: fc.constant(keys),
      heldout: fc.integer({ min: 0, max: keys.length }),
      seed: fc.integer(),
    })
    .chain((c) =>
      fc.record({
        keys: fc.constant(c.keys),
        heldout: fc.constant(c.heldout),
        test: fc.integer({ min: 0, max: c.keys.length - c.heldout }),
        seed: fc.constant(c.seed),
      }),
    ),
);

const partOf = (split: ReturnType<typeof splitByGroups>) => {
  const of = new Map<number, string>();
  for (const part of SPLIT_PARTS) for (const i of split.parts[part]) of.set(i, part);
  return of;
};

describe('splitByGroups', () => {
  it('partitions the records: every index in exactly one part', () => {
    fc.assert(
      fc.property(caseArb, ({ keys, heldout, test, seed }) => {
        const s = splitByGroups(keys, { heldout, test }, createRng(seed));
        const all = SPLIT_PARTS.flatMap((p) => s.parts[p]).sort((a, b) => a - b);
        expect(all).toEqual(keys.map((_, i) => i));
      }),
    );
  });

  it('never lets a group straddle two parts, and counts the groups of each part', () => {
    fc.assert(
      fc.property(caseArb, ({ keys, heldout, test, seed }) => {
        const s = splitByGroups(keys, { heldout, test }, createRng(seed));
        const of = partOf(s);
        const partOfKey = new Map<string, string>();
        keys.forEach((k, i) => {
          const p = of.get(i)!;
          expect(partOfKey.get(k) ?? p).toBe(p);
          partOfKey.set(k, p);
        });
        for (const part of SPLIT_PARTS) expect(s.groups[part]).toBe(new Set(s.parts[part].map((i) => keys[i])).size);
      }),
    );
  });

  it('ends each part within one group of its target', () => {
    fc.assert(
      fc.property(caseArb, ({ keys, heldout, test, seed }) => {
        const s = splitByGroups(keys, { heldout, test }, createRng(seed));
        const sizes = new Map<string, number>();
        for (const k of keys) sizes.set(k, (sizes.get(k) ?? 0) + 1);
        const largest = Math.max(...sizes.values());
        expect(Math.abs(s.parts.heldout.length - heldout)).toBeLessThanOrEqual(largest);
        expect(Math.abs(s.parts.test.length - test)).toBeLessThanOrEqual(largest);
      }),
    );
  });

  it('gives the same split for the same seed and another split for other seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 30, max: 80 }), fc.integer(), (n, seed) => {
        const keys = Array.from({ length: n }, (_, i) => `g${i % Math.floor(n / 2)}`);
        const split = (s: number) => splitByGroups(keys, { heldout: Math.round(n / 3), test: 0 }, createRng(s)).parts;
        expect(split(seed)).toEqual(split(seed));
        const others = [seed + 1, seed + 2, seed + 3].map((s) => JSON.stringify(split(s)));
        expect(others.some((o) => o !== JSON.stringify(split(seed)))).toBe(true);
      }),
    );
  });
});

describe('toGroupKey and toTargetCount', () => {
  it('follows dot paths; a missing or null field has no key', () => {
    const r = { id: 'a', class: 'open', source: { target: 'x.jpg', board: 7, crop: [1, 2] }, none: null };
    expect(toGroupKey(r, 'source.target')).toBe('x.jpg');
    expect(toGroupKey(r, 'source.board')).toBe('7');
    expect(toGroupKey(r, 'source.crop')).toBe('[1,2]');
    expect(toGroupKey(r, 'source.missing')).toBeUndefined();
    expect(toGroupKey(r, 'class.deeper')).toBeUndefined();
    expect(toGroupKey(r, 'none')).toBeUndefined();
  });

  it('rounds a fraction to the nearest record and takes a count as it is', () => {
    expect(toTargetCount({ kind: 'fraction', value: 0.2 }, 11)).toBe(2);
    expect(toTargetCount({ kind: 'count', value: 30 }, 100)).toBe(30);
    expect(toTargetCount(undefined, 100)).toBe(0);
  });
});
