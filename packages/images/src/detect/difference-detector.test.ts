import { describe, expect, it } from 'vitest';
import type { RawImage } from '../encode/write-image.js';
import { boxBlur, computeDifferenceMap, computeToleranceDifference, detectDifference, findAnomalyBox } from './difference-detector.js';

function board(width: number, height: number, shiftX = 0): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ((x - shiftX) >> 3) % 2 === (y >> 3) % 2 ? 200 : 60;
      data.set([v, v, v], (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

function withDefect(image: RawImage, box: readonly [number, number, number, number]): RawImage {
  const data = new Uint8Array(image.data);
  for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) data.set([255, 0, 0], (y * image.width + x) * 3);
  return { ...image, data };
}

const params = { threshold: 0.15, blur: 1, minAreaShare: 0.001, maxShift: 4 };

describe('detectDifference', () => {
  it('finds a defect and returns its box in target pixels', () => {
    const ref = board(128, 96);
    const result = detectDifference(ref, withDefect(ref, [40, 30, 60, 50]), params);
    expect(result.box).not.toBeNull();
    const [x1, y1, x2, y2] = result.box!;
    expect(Math.abs(x1 - 40)).toBeLessThanOrEqual(2);
    expect(Math.abs(y1 - 30)).toBeLessThanOrEqual(2);
    expect(Math.abs(x2 - 60)).toBeLessThanOrEqual(2);
    expect(Math.abs(y2 - 50)).toBeLessThanOrEqual(2);
  });

  it('answers normal for an identical pair and for a pair that is only shifted', () => {
    const ref = board(128, 96);
    expect(detectDifference(ref, ref, params).box).toBeNull();
    const shifted = detectDifference(ref, board(128, 96, 2), params);
    expect(shifted.shift).toEqual([2, 0]);
    expect(shifted.box).toBeNull();
  });

  it('ignores differences smaller than the minimum area', () => {
    const ref = board(128, 96);
    expect(detectDifference(ref, withDefect(ref, [10, 10, 12, 12]), { ...params, minAreaShare: 0.01, blur: 0 }).box).toBeNull();
  });

  it('blurs with a box filter that keeps a constant map constant', () => {
    const map = new Float32Array(20).fill(0.5);
    expect([...boxBlur(map, 5, 4, 2)].every((v) => Math.abs(v - 0.5) < 1e-6)).toBe(true);
    const spike = new Float32Array(25);
    spike[12] = 9;
    expect(boxBlur(spike, 5, 5, 1)[12]).toBeCloseTo(1, 6);
  });

  it('forgives edges shifted by less than the tolerance, not a defect wider than it', () => {
    // Binary lines: the target's lines sit one pixel to the right of the reference's (a local misregistration
    // the global alignment cannot undo, because the left half is not shifted), plus a 6×6 black blob inside
    // a bright 8×8 square: its inner 4×4 pixels differ from everything within one pixel.
    const ref = board(128, 96);
    const target = board(128, 96);
    for (let y = 0; y < 96; y++)
      for (let x = 64; x < 127; x++) target.data.set(ref.data.subarray((y * 128 + x) * 3, (y * 128 + x) * 3 + 3), (y * 128 + x + 1) * 3);
    const defect = { ...target, data: new Uint8Array(target.data) };
    for (let y = 41; y < 47; y++) for (let x = 25; x < 31; x++) defect.data.set([0, 0, 0], (y * 128 + x) * 3);
    const map = computeDifferenceMap(ref, defect, 0);
    const strict = computeToleranceDifference(map, 0);
    const tolerant = computeToleranceDifference(map, 1);
    const count = (m: Float32Array) => m.reduce((n, v) => n + (v > 0.3 ? 1 : 0), 0);
    expect(count(strict)).toBeGreaterThan(200);
    expect(count(tolerant)).toBeGreaterThanOrEqual(16);
    expect(count(tolerant)).toBeLessThan(40);
    const found = findAnomalyBox(map, { threshold: 0.3, blur: 0, minAreaShare: 0.001, tolerance: 1 }).box!;
    expect(found[0]).toBeGreaterThanOrEqual(25);
    expect(found[2]).toBeLessThanOrEqual(31);
  });

  it('widens the box by the pad on every side, clamped to the image', () => {
    const ref = board(128, 96);
    const map = computeDifferenceMap(ref, withDefect(ref, [40, 30, 60, 50]), 0);
    const plain = findAnomalyBox(map, { threshold: 0.15, blur: 0, minAreaShare: 0.001 }).box!;
    const padded = findAnomalyBox(map, { threshold: 0.15, blur: 0, minAreaShare: 0.001, padShare: 0.05 }).box!;
    // 5% of the long side (128) is 6.4 pixels.
    expect(padded.map((v, i) => v - plain[i]!)).toEqual([-6.4, -6.4, 6.4, 6.4].map((v) => expect.closeTo(v, 6)));
    const corner = findAnomalyBox(computeDifferenceMap(ref, withDefect(ref, [0, 0, 10, 10]), 0), {
      threshold: 0.15,
      blur: 0,
      minAreaShare: 0.001,
      padShare: 0.1,
    }).box!;
    expect(corner[0]).toBe(0);
    expect(corner[1]).toBe(0);
    const shrunk = findAnomalyBox(map, { threshold: 0.15, blur: 0, minAreaShare: 0.001, padShare: -0.5 }).box!;
    expect(shrunk).toEqual(plain);
  });
});
