import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rotateMask } from './rgb.js';
import { computeAnomalyRegion, computeRotationSafeRegion, computeSquareFit } from './square-fit.js';

describe('computeSquareFit', () => {
  it('covers with the short side and contains with the long side, and says when it enlarges', () => {
    const cases = [
      { w: 100, h: 80, cover: true, contain: [0, 25, 256, 230], containUp: true },
      { w: 300, h: 500, cover: false, contain: [51, 0, 205, 256], containUp: false },
      { w: 256, h: 256, cover: false, contain: [0, 0, 256, 256], containUp: false },
      { w: 40, h: 900, cover: true, contain: [122, 0, 133, 256], containUp: false },
    ];
    for (const c of cases) {
      const cover = computeSquareFit(c.w, c.h, 256, 'cover');
      expect(cover.content, `${c.w}×${c.h} cover`).toEqual([0, 0, 256, 256]);
      expect(cover.upscaled, `${c.w}×${c.h} cover`).toBe(c.cover);
      expect(Math.min(cover.scaled.width, cover.scaled.height)).toBe(256);
      const contain = computeSquareFit(c.w, c.h, 256, 'contain');
      expect(contain.content, `${c.w}×${c.h} contain`).toEqual(c.contain);
      expect(contain.upscaled, `${c.w}×${c.h} contain`).toBe(c.containUp);
      expect([contain.scaled.width, contain.scaled.height]).toEqual([c.contain[2]! - c.contain[0]!, c.contain[3]! - c.contain[1]!]);
    }
  });
});

describe('computeRotationSafeRegion', () => {
  it('keeps every pixel inside the content box under any rotation up to the angle', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 96 }),
        fc.integer({ min: 8, max: 400 }),
        fc.integer({ min: 8, max: 400 }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (size, w, h, maxDeg, share) => {
          const { content } = computeSquareFit(w, h, size, 'contain');
          const [x1, y1, x2, y2] = content;
          const region = computeRotationSafeRegion(size, content, (maxDeg * Math.PI) / 180);
          const rotated = rotateMask(region.data, size, size, (share * maxDeg * Math.PI) / 180);
          for (let i = 0; i < region.data.length; i++) {
            const x = i % size;
            const y = Math.floor(i / size);
            const inBox = x >= x1 && x < x2 && y >= y1 && y < y2;
            if ((region.data[i] || rotated[i]) && !inBox) return false;
          }
          return true;
        },
      ),
    );
  });

  it('is the whole box without rotation and shrinks a thin strip at its ends', () => {
    const strip = [122, 0, 133, 256] as const;
    const count = (angleDeg: number) => computeRotationSafeRegion(256, strip, (angleDeg * Math.PI) / 180).data.reduce((a, v) => a + v, 0);
    expect(count(0)).toBe(11 * 256);
    const rotated = computeRotationSafeRegion(256, strip, (3 * Math.PI) / 180);
    // The strip's ends swing sideways by about 128·sin 3° ≈ 6.7 px, more than its half-width.
    expect(rotated.data[0 * 256 + 127]).toBe(0);
    expect(rotated.data[128 * 256 + 127]).toBe(1);
    // Column x keeps the rows with |y − 127.5|·sin 3° ≤ its distance to the nearer edge centre:
    // Σ 2·d / sin 3° over d = 0, 1, …, 5, …, 1, 0 ≈ 956 pixels, not a needlessly smaller region.
    expect(count(3)).toBeGreaterThan(900);
    expect(count(3)).toBeLessThan(1000);
  });

  it('falls back to the whole content box for a sliver too thin to keep any pixel', () => {
    const sliver = [0, 127, 256, 129] as const;
    const angle = (5 * Math.PI) / 180;
    expect(computeRotationSafeRegion(256, sliver, angle).data.includes(1)).toBe(false);
    const region = computeAnomalyRegion(256, sliver, angle);
    expect(region.data.reduce((a, v) => a + v, 0)).toBe(2 * 256);
    expect(region.data[127 * 256]).toBe(1);
    // A box wide enough keeps its safe part only.
    const wide = [0, 25, 256, 230] as const;
    expect(computeAnomalyRegion(256, wide, angle).data).toEqual(computeRotationSafeRegion(256, wide, angle).data);
  });
});
