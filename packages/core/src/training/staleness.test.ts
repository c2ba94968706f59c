import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideStaleness, toLabelledVersion, toSampledVersion, toStalenessFields } from './staleness.js';

describe('decideStaleness (docs/method.md §6.9)', () => {
  it('trains groups up to maxStaleness versions old and regenerates older ones', () => {
    const groups = [
      { version: 5, completions: 8 },
      { version: 4, completions: 8 },
      { version: 3, completions: 8 },
      { version: 5, completions: 4 },
    ];
    expect(decideStaleness(groups, 5, 1)).toEqual({ regenerate: [2], histogram: [12, 8] });
  });

  it('at maxStaleness 0 anything behind the trainer is regenerated', () => {
    expect(
      decideStaleness(
        [
          { version: 2, completions: 8 },
          { version: 3, completions: 8 },
        ],
        3,
        0,
      ),
    ).toEqual({ regenerate: [0], histogram: [8] });
  });

  it('a group without a recorded version, or ahead of the trainer, counts as fresh', () => {
    expect(
      decideStaleness(
        [
          { version: null, completions: 8 },
          { version: 9, completions: 8 },
        ],
        7,
        2,
      ),
    ).toEqual({ regenerate: [], histogram: [16, 0, 0] });
  });

  it('every completion is either counted once or in a regenerated group', () => {
    const group = fc.record({
      version: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      completions: fc.integer({ min: 1, max: 16 }),
    });
    fc.assert(
      fc.property(
        fc.array(group, { maxLength: 20 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 4 }),
        (groups, trainer, max) => {
          const d = decideStaleness(groups, trainer, max);
          const regenerated = d.regenerate.reduce((n, slot) => n + groups[slot]!.completions, 0);
          const total = groups.reduce((n, g) => n + g.completions, 0);
          expect(d.histogram).toHaveLength(max + 1);
          expect(d.histogram.reduce((a, b) => a + b, 0) + regenerated).toBe(total);
          for (const slot of d.regenerate) expect(trainer - groups[slot]!.version!).toBeGreaterThan(max);
        },
      ),
    );
  });
});

describe('toStalenessFields', () => {
  it('names one field per age, then the regenerated count', () => {
    expect(Object.keys(toStalenessFields([3, 1], 2))).toEqual(['staleness_0', 'staleness_1', 'regenerated']);
    expect(toStalenessFields([3, 1], 2)).toEqual({ staleness_0: 3, staleness_1: 1, regenerated: 2 });
  });
});

describe('toSampledVersion', () => {
  it("takes the pool's version unless the server reports an older one", () => {
    const cases: [number, number | null | undefined, number][] = [
      [3, null, 3], // vLLM's chat route reports none
      [3, undefined, 3],
      [3, 4, 3], // a server that counts the run's first push runs one ahead: never newer than the pool
      [3, 3, 3],
      [3, 2, 2], // an update fell inside the request (its oldest version), or a replica behind
      [0, 0, 0],
    ];
    for (const [pool, reported, expected] of cases) expect(toSampledVersion(pool, reported)).toBe(expected);
  });
});

describe('toLabelledVersion', () => {
  it('reads a sync\'s label as its version, and vLLM\'s starting "default" or any other label as none', () => {
    expect(toLabelledVersion('0')).toBe(0);
    expect(toLabelledVersion('17')).toBe(17);
    for (const label of ['default', '', '07', '-1', '1.5', ' 3', 'v3', null]) expect(toLabelledVersion(label), String(label)).toBeNull();
  });
});
