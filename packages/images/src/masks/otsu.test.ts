import { createRng } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { toBinaryMask } from './binary-mask.js';
import { computeMaskBox } from './connected-components.js';
import { computeOtsuThreshold } from './otsu.js';

describe('computeOtsuThreshold', () => {
  it('splits a noisy bimodal image between its modes and recovers the bright square', () => {
    const rng = createRng('otsu');
    const w = 64;
    const grey = new Uint8Array(w * w);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const bright = x >= 20 && x < 40 && y >= 10 && y < 30;
        grey[y * w + x] = Math.max(0, Math.min(255, Math.round((bright ? 180 : 60) + rng.normal() * 12)));
      }
    }
    const t = computeOtsuThreshold(grey);
    expect(t).toBeGreaterThan(100);
    expect(t).toBeLessThan(140);
    const mask = toBinaryMask({ data: grey, width: w, height: w, channels: 1 }, t);
    expect(computeMaskBox(mask)).toEqual([20, 10, 40, 30]);
  });

  it('takes the middle of an empty gap between two exact modes', () => {
    const grey = new Uint8Array(100).map((_, i) => (i < 70 ? 50 : 200));
    expect(computeOtsuThreshold(grey)).toBe(125);
  });

  it('returns 256 (nothing bright) when there is nothing to split', () => {
    expect(computeOtsuThreshold(new Uint8Array(50).fill(7))).toBe(256);
    expect(computeOtsuThreshold(new Uint8Array(0))).toBe(256);
  });
});

describe('toBinaryMask', () => {
  it('counts any bright colour channel as foreground and ignores alpha', () => {
    const rgba = new Uint8Array([255, 0, 0, 0, 0, 0, 0, 255, 0, 0, 127, 255, 10, 10, 10, 255]);
    expect([...toBinaryMask({ data: rgba, width: 4, height: 1, channels: 4 }).data]).toEqual([1, 0, 0, 0]);
    expect([...toBinaryMask({ data: new Uint8Array([0, 1, 255]), width: 3, height: 1, channels: 1 }, 1).data]).toEqual([0, 1, 1]);
  });
});
