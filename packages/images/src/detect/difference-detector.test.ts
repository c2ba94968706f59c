import { describe, expect, it } from 'vitest';
import type { RawImage } from '../encode/write-image.js';
import { boxBlur, detectDifference } from './difference-detector.js';

function board(width: number, height: number, shiftX = 0): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ((x - shiftX) >> 3) % 2 === ((y >> 3) % 2) ? 200 : 60;
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
});
