import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Box,
  EMPTY_BOX,
  computeBoxArea,
  computeBoxCenter,
  computeBoxDiagonal,
  computeIou,
  hasPositiveArea,
  isEmptyBox,
} from './box.js';

const coord = fc.integer({ min: -50, max: 1050 });
const anyBox = fc.tuple(coord, coord, coord, coord) as fc.Arbitrary<Box>;
const positiveBox = fc
  .tuple(coord, coord, fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 500 }))
  .map(([x, y, w, h]): Box => [x, y, x + w, y + h]);

describe('computeIou', () => {
  it('is 1 for identical boxes', () => {
    expect(computeIou([10, 20, 30, 60], [10, 20, 30, 60])).toBe(1);
  });

  it('is 0 for disjoint boxes and for boxes that only touch', () => {
    expect(computeIou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(computeIou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
    expect(computeIou([0, 0, 10, 10], [0, 10, 10, 20])).toBe(0);
  });

  it('matches a hand-computed partial overlap', () => {
    // 50×50 overlap of two 100×100 boxes: 2500 / (10000 + 10000 − 2500) = 1/7.
    expect(computeIou([100, 100, 200, 200], [150, 150, 250, 250])).toBeCloseTo(0.142857, 6);
    // A box inside another: 20·10 / (40·40).
    expect(computeIou([0, 0, 40, 40], [10, 10, 30, 20])).toBeCloseTo(200 / 1600, 12);
  });

  it('is 0 when both boxes are empty or degenerate (no 0/0)', () => {
    expect(computeIou(EMPTY_BOX, EMPTY_BOX)).toBe(0);
    expect(computeIou([5, 5, 5, 9], [5, 5, 5, 9])).toBe(0);
    expect(computeIou(EMPTY_BOX, [0, 0, 10, 10])).toBe(0);
  });

  it('treats an inverted box as having no area', () => {
    expect(computeIou([10, 10, 0, 0], [0, 0, 10, 10])).toBe(0);
  });

  it('is symmetric and within [0, 1] for any boxes', () => {
    fc.assert(
      fc.property(anyBox, anyBox, (a, b) => {
        const ab = computeIou(a, b);
        expect(ab).toBe(computeIou(b, a));
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is 1 only for a box with itself among positive-area boxes', () => {
    fc.assert(
      fc.property(positiveBox, positiveBox, (a, b) => {
        expect(computeIou(a, a)).toBe(1);
        const same = a.every((v, i) => v === b[i]);
        if (!same) expect(computeIou(a, b)).toBeLessThan(1);
      }),
    );
  });
});

describe('computeBoxArea', () => {
  it('is width times height', () => {
    expect(computeBoxArea([10, 20, 40, 60])).toBe(30 * 40);
    expect(computeBoxArea([0.5, 0, 2, 1])).toBe(1.5);
  });

  it('is 0 for the empty box and for inverted or flat boxes', () => {
    expect(computeBoxArea(EMPTY_BOX)).toBe(0);
    expect(computeBoxArea([10, 10, 5, 20])).toBe(0);
    expect(computeBoxArea([10, 10, 20, 5])).toBe(0);
    expect(computeBoxArea([10, 10, 10, 20])).toBe(0);
  });
});

describe('empty box and positive area', () => {
  it('recognises only the all-zero box as empty', () => {
    expect(isEmptyBox(EMPTY_BOX)).toBe(true);
    expect(isEmptyBox([0, 0, 0, 0])).toBe(true);
    expect(isEmptyBox([0, 0, 0, 1])).toBe(false);
    expect(isEmptyBox([1, 1, 1, 1])).toBe(false);
  });

  it('EMPTY_BOX cannot be mutated', () => {
    expect(Object.isFrozen(EMPTY_BOX)).toBe(true);
  });

  it('hasPositiveArea needs x2 > x1 and y2 > y1', () => {
    expect(hasPositiveArea([0, 0, 1, 1])).toBe(true);
    expect(hasPositiveArea(EMPTY_BOX)).toBe(false);
    expect(hasPositiveArea([5, 0, 5, 10])).toBe(false);
    expect(hasPositiveArea([0, 5, 10, 5])).toBe(false);
    expect(hasPositiveArea([10, 0, 5, 10])).toBe(false);
  });
});

describe('centre and diagonal', () => {
  it('computes the centre and the diagonal length', () => {
    expect(computeBoxCenter([100, 100, 200, 300])).toEqual([150, 200]);
    expect(computeBoxDiagonal([0, 0, 30, 40])).toBe(50);
    expect(computeBoxDiagonal(EMPTY_BOX)).toBe(0);
  });
});
