import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Box } from '../boxes/box.js';
import { toCroppedBox, toScaledBox, toSourceBox } from './box-scaling.js';
import { computeDatasetStats, computeDistribution } from './dataset-stats.js';
import { checkManifestVersion, isManifestHeader } from './manifest-version.js';
import { toPixelBoxFromNorm1000, toResearchBox, toResearchLine } from './research-line.js';
import { selectTopK } from './top-k.js';

describe('box scaling', () => {
  it('scales outwards so the defect stays covered', () => {
    expect(toScaledBox([10, 10, 21, 21], { width: 100, height: 100 }, { width: 50, height: 50 })).toEqual([5, 5, 11, 11]);
    expect(toScaledBox([0, 0, 100, 50], { width: 100, height: 50 }, { width: 200, height: 200 })).toEqual([0, 0, 200, 200]);
  });

  it('covers the scaled box, stays inside the image and never collapses (property)', () => {
    const size = fc.record({ width: fc.integer({ min: 1, max: 2000 }), height: fc.integer({ min: 1, max: 2000 }) });
    fc.assert(
      fc.property(
        size,
        size,
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (from, to, a, b) => {
          const box: Box = [
            a * from.width,
            a * from.height,
            Math.min(from.width, a * from.width + b * from.width),
            Math.min(from.height, a * from.height + b * from.height),
          ];
          if (!(box[2] > box[0] && box[3] > box[1])) return;
          const s = toScaledBox(box, from, to);
          expect(s[2] > s[0] && s[3] > s[1]).toBe(true);
          expect(s[0] >= 0 && s[1] >= 0 && s[2] <= to.width && s[3] <= to.height).toBe(true);
          expect(Number.isInteger(s[0]) && Number.isInteger(s[3])).toBe(true);
        },
      ),
    );
  });

  it('crops and traces a box back to its source', () => {
    expect(toCroppedBox([110, 120, 130, 140], [100, 100, 260, 260])).toEqual([10, 20, 30, 40]);
    expect(toCroppedBox([10, 10, 20, 20], [100, 100, 260, 260])).toBeNull();
    expect(toSourceBox([10, 20, 30, 40], [100, 100, 260, 260], { width: 160, height: 160 })).toEqual([110, 120, 130, 140]);
    expect(toSourceBox([10, 20, 30, 40], [0, 0, 200, 200], { width: 100, height: 100 })).toEqual([20, 40, 60, 80]);
  });
});

describe('computeDatasetStats', () => {
  it('counts classes, subsets, the normal share and box sizes', () => {
    const stats = computeDatasetStats([
      { class: 'a', subset: 's', width: 100, height: 100, box: [0, 0, 10, 10] },
      { class: 'a', subset: 's', width: 100, height: 100, box: null },
      { class: 'b', width: 100, height: 100, box: [0, 0, 50, 40] },
      { class: 'b', width: 200, height: 100, box: [0, 0, 20, 20] },
    ]);
    expect(stats).toMatchObject({ n: 4, anomalous: 3, normal: 1, normal_share: 0.25 });
    expect(stats.classes).toEqual({
      a: { n: 2, anomalous: 1, normal: 1, normal_share: 0.5 },
      b: { n: 2, anomalous: 2, normal: 0, normal_share: 0 },
    });
    expect(Object.keys(stats.subsets)).toEqual(['s']);
    expect(stats.image_sizes).toEqual({ '100×100': 3, '200×100': 1 });
    expect(stats.boxes.n).toBe(3);
    expect(stats.boxes.width).toMatchObject({ min: 10, median: 20, max: 50 });
    // Shares 0.01, 0.2, 0.02: 1 % counts as medium.
    expect(stats.boxes.size_buckets).toEqual({ small: 0, medium: 2, large: 1 });
  });

  it('interpolates quartiles and has none for an empty list', () => {
    expect(computeDistribution([4, 1, 3, 2])).toEqual({ min: 1, p25: 1.75, median: 2.5, p75: 3.25, max: 4, mean: 2.5 });
    expect(computeDistribution([])).toBeNull();
  });
});

describe('manifest version', () => {
  it('accepts no version and version 1, rejects others with a reason', () => {
    expect(checkManifestVersion(undefined)).toBeNull();
    expect(checkManifestVersion(1)).toBeNull();
    expect(checkManifestVersion(2)).toMatch(/version 2 is not supported/);
    expect(checkManifestVersion('1')).toMatch(/integer/);
    expect(isManifestHeader({ kind: 'differad-manifest', version: 1 })).toBe(true);
    expect(isManifestHeader({ id: 'x' })).toBe(false);
  });
});

describe('research lines', () => {
  it('reads boxes as lists, nested lists or strings; all zeros is normal', () => {
    expect(toResearchBox([100, 200, 300, 400])).toEqual({ box: [100, 200, 300, 400] });
    expect(toResearchBox([[100, 200, 300, 400]])).toEqual({ box: [100, 200, 300, 400] });
    expect(toResearchBox('[100, 200, 300, 400]')).toEqual({ box: [100, 200, 300, 400] });
    expect(toResearchBox([0, 0, 0, 0])).toEqual({ box: null });
    expect(toResearchBox([1, 2, 3])).toMatchObject({ message: expect.stringMatching(/4 numbers/) });
    expect(toResearchBox([300, 200, 100, 400])).toMatchObject({ message: expect.stringMatching(/x2 > x1/) });
    expect(toResearchBox([0, 0, 1200, 10])).toMatchObject({ message: expect.stringMatching(/0\.\.1000/) });
  });

  it('round-trips a pixel box through norm1000 within a pixel', () => {
    const record = { id: 'a', class: 'c', reference: 'r.png', target: 't.png', width: 640, height: 480, box: [64, 48, 320, 240] as Box };
    const line = toResearchLine(record, { reference: 'r.png', target: 't.png' });
    expect(line).toMatchObject({ images: ['r.png', 't.png'], seg_gt_qwen2vl: [100, 100, 500, 500], width: 640 });
    expect(toPixelBoxFromNorm1000([100, 100, 500, 500], { width: 640, height: 480 })).toEqual([64, 48, 320, 240]);
    expect(toResearchLine({ ...record, box: null }, { reference: 'r', target: 't' }).seg_gt_qwen2vl).toEqual([0, 0, 0, 0]);
  });
});

describe('selectTopK', () => {
  it('keeps the k best, best first, ties in input order', () => {
    const scores: Record<string, number> = { a: 0.5, b: 0.9, c: 0.5, d: Number.NaN };
    expect(selectTopK(['a', 'b', 'c', 'd'], (x) => scores[x]!, 3)).toEqual([
      { item: 'b', score: 0.9 },
      { item: 'a', score: 0.5 },
      { item: 'c', score: 0.5 },
    ]);
  });
});
