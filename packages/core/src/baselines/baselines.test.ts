import { describe, expect, it } from 'vitest';
import type { Box } from '../boxes/box.js';
import { createRng } from '../random/rng.js';
import { calibrateThreshold, type CalibrationSample, toThresholdCandidates } from './calibrate-threshold.js';
import { splitCalibration } from './split-calibration.js';

const W = 8;

interface TestMap extends CalibrationSample {
  readonly values: Float32Array;
}

/** An 8×8 map of zeros with the given pixels set. */
function drawMap(truth: Box | null, pixels: readonly (readonly [number, number, number])[]): TestMap {
  const values = new Float32Array(W * W);
  for (const [x, y, v] of pixels) values[y * W + x] = v;
  return { values, truth };
}

function block(box: Box, v: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) out.push([x, y, v]);
  return out;
}

/** Test double of the injected labelling: the tight box of every pixel above the threshold (each map holds one blob at most). */
function boxAbove(sample: TestMap, threshold: number): Box | null {
  let [x1, y1, x2, y2] = [W, W, -1, -1];
  sample.values.forEach((v, i) => {
    if (v <= threshold) return;
    const x = i % W;
    const y = Math.floor(i / W);
    [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x), Math.max(y2, y)];
  });
  return x2 < 0 ? null : [x1, y1, x2 + 1, y2 + 1];
}

describe('calibrateThreshold (docs/method.md §11)', () => {
  it('chooses the threshold with the best F1@0.3 on hand-made maps', () => {
    const samples = [
      // A strong defect plus a faint speck in the far corner that ruins the box below 0.4.
      drawMap([1, 1, 3, 3], [...block([1, 1, 3, 3], 0.9), [7, 7, 0.4]]),
      // A normal pair with some difference (0.5): a false positive below 0.5.
      drawMap(null, [[4, 4, 0.5]]),
      // A weak defect (0.6): missed from 0.6 up.
      drawMap([0, 0, 2, 2], block([0, 0, 2, 2], 0.6)),
    ];
    // F1 by threshold: 0 → 0.4, 0.4 → 0.8, 0.5 → 1, 0.6 → 2/3, 0.9 → 0.
    const result = calibrateThreshold(samples, boxAbove, { tau: 0.3 });
    expect(result.threshold).toBeCloseTo(0.5, 6);
    expect(result.f1).toBe(1);
    expect(result.acc).toBe(1);
    expect(result.candidates).toBe(5);
    expect(result.metrics).toMatchObject({ tp: 2, fp: 0, fn: 0 });
  });

  it('breaks ties by Acc@τ, then toward the median of the tied thresholds (the lower one of two)', () => {
    // Both 0 (box of rows 1–2) and 0.7 (row 1 only, IoU 0.5) find the defect: F1 = Acc = 1.
    const two = drawMap([1, 1, 3, 3], [...block([1, 1, 3, 2], 0.9), ...block([1, 2, 3, 3], 0.7)]);
    expect(calibrateThreshold([two], boxAbove, { tau: 0.3 })).toMatchObject({ threshold: 0, f1: 1 });
    // 0, 0.5 and 0.7 all find it (a fourth, 0.8, misses it): the median 0.5 keeps a margin on both sides.
    const three = drawMap([1, 1, 3, 3], [...block([1, 1, 3, 2], 0.8), [1, 2, 0.7], [2, 2, 0.5]]);
    expect(calibrateThreshold([three], boxAbove, { tau: 0.3 }).threshold).toBeCloseTo(0.5, 6);
    // Equal F1 (no anomaly found either way) but the higher threshold also answers the normal pair empty.
    const missed = drawMap([0, 0, 1, 1], [[6, 6, 0.9]]);
    const normal = drawMap(null, [[3, 3, 0.4]]);
    expect(calibrateThreshold([missed, normal], boxAbove, { tau: 0.3 }).threshold).toBeCloseTo(0.4, 6);
  });

  it('counts a part with only normal samples answered empty as F1 = 1', () => {
    const result = calibrateThreshold([drawMap(null, [[2, 2, 0.3]])], boxAbove, { tau: 0.3 });
    expect(result.threshold).toBeCloseTo(0.3, 6);
    expect(result.f1).toBe(1);
  });
});

describe('toThresholdCandidates', () => {
  it('keeps the distinct values, thinned to the bound with the smallest and largest kept', () => {
    expect(
      toThresholdCandidates([
        [0.2, 0.1, 0.2],
        [0.1, Number.NaN, 0.3],
      ]),
    ).toEqual([0.1, 0.2, 0.3]);
    const many = Array.from({ length: 10_000 }, (_, i) => i / 10_000);
    const candidates = toThresholdCandidates([many], 256);
    expect(candidates).toHaveLength(256);
    expect(candidates[0]).toBe(0);
    expect(candidates.at(-1)).toBe(0.9999);
    expect([...candidates].sort((a, b) => a - b)).toEqual(candidates);
  });
});

describe('splitCalibration', () => {
  it('splits reproducibly from the seed into disjoint ascending parts of 30% and 70%', () => {
    const a = splitCalibration(20, 0.3, createRng(7));
    expect(a).toEqual(splitCalibration(20, 0.3, createRng(7)));
    expect(a.calibration).toHaveLength(6);
    expect([...a.calibration, ...a.evaluation].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([...a.evaluation].sort((x, y) => x - y)).toEqual(a.evaluation);
    expect(splitCalibration(20, 0.3, createRng(8))).not.toEqual(a);
  });

  it('keeps at least one sample in each part and rejects what cannot be split', () => {
    expect(splitCalibration(2, 0.3, createRng(1)).calibration).toHaveLength(1);
    expect(splitCalibration(3, 0.99, createRng(1)).evaluation).toHaveLength(1);
    expect(() => splitCalibration(1, 0.3, createRng(1))).toThrow(RangeError);
    expect(() => splitCalibration(10, 1, createRng(1))).toThrow(RangeError);
  });
});
