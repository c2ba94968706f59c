import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeCoverCrop } from './cover-crop.js';

const size = fc.record({ width: fc.integer({ min: 1, max: 5000 }), height: fc.integer({ min: 1, max: 5000 }) });

describe('computeCoverCrop', () => {
  it('keeps the whole image when the aspect ratios agree, and cuts the longer side evenly otherwise', () => {
    expect(computeCoverCrop({ width: 64, height: 48 }, { width: 128, height: 96 })).toEqual([0, 0, 64, 48]);
    expect(computeCoverCrop({ width: 355, height: 362 }, { width: 456, height: 382 })).toEqual([0, 32, 355, 329]);
    expect(computeCoverCrop({ width: 400, height: 100 }, { width: 100, height: 100 })).toEqual([150, 0, 250, 100]);
  });

  it('is a centred window of the source with the target aspect ratio that spans one side fully', () => {
    fc.assert(
      fc.property(size, size, (from, to) => {
        const [x1, y1, x2, y2] = computeCoverCrop(from, to);
        const w = x2 - x1;
        const h = y2 - y1;
        expect(x1 >= 0 && y1 >= 0 && x2 <= from.width && y2 <= from.height && w >= 1 && h >= 1).toBe(true);
        expect(w === from.width || h === from.height).toBe(true);
        // Centred: the margins differ by at most one pixel.
        expect(Math.abs(x1 - (from.width - x2))).toBeLessThanOrEqual(1);
        expect(Math.abs(y1 - (from.height - y2))).toBeLessThanOrEqual(1);
        // Uniform scale: the source's relatively longer side is cut to the other side times the target aspect
        // ratio, rounded (at least one pixel, at most the whole side); the other side is kept whole.
        if (from.width * to.height >= from.height * to.width) {
          expect(h).toBe(from.height);
          expect(Math.abs(w - Math.min(from.width, Math.max(1, (from.height * to.width) / to.height)))).toBeLessThanOrEqual(0.5 + 1e-9);
        } else {
          expect(w).toBe(from.width);
          expect(Math.abs(h - Math.min(from.height, Math.max(1, (from.width * to.height) / to.width)))).toBeLessThanOrEqual(0.5 + 1e-9);
        }
      }),
      {
        numRuns: 2000,
        examples: [
          [
            { width: 9, height: 34 },
            { width: 9, height: 35 },
          ],
        ],
      },
    );
  });
});
