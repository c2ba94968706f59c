import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDifferadError } from '../errors/differad-error.js';
import { type Box, EMPTY_BOX } from './box.js';
import { DEFAULT_RESIZE, type ImageSize, computeResizedSize, roundHalfEven, toFrameResize, toModelFrame, toPixelFrame } from './frames.js';

/** The error thrown by `fn`, or a failing expectation when it returns. */
function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('roundHalfEven (Python round)', () => {
  it('sends halves to the even neighbour and rounds the rest normally', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, -2, -2]);
    expect([2.4, 2.6, -2.4, -2.6, 7].map(roundHalfEven)).toEqual([2, 3, -2, -3, 7]);
  });
});

describe('computeResizedSize (Qwen2-VL smart_resize, factor 28, 3136..401408 px)', () => {
  // Reference values from Python's smart_resize with the same settings.
  const cases: Array<[w: number, h: number, rw: number, rh: number]> = [
    [640, 640, 616, 616], // 644×644 after rounding is too big, scaled down and floored
    [1920, 1080, 840, 448],
    [1024, 1024, 616, 616],
    [3000, 4000, 532, 728],
    [20, 20, 56, 56], // too small: scaled up and ceiled
    [14, 14, 56, 56],
    [50, 60, 56, 56],
    [70, 70, 56, 56], // 70/28 = 2.5 rounds to 2 (half-even), then min_pixels
    [126, 70, 112, 56], // 4.5 → 4 and 2.5 → 2, then min_pixels doubles
    [98, 42, 112, 56], // 3.5 → 4 and 1.5 → 2
    [224, 224, 224, 224],
    [700, 500, 700, 504],
    [900, 300, 896, 308],
    [1000, 30, 1008, 28],
    [10, 1000, 28, 1008],
  ];

  it.each(cases)('%i×%i → %i×%i', (w, h, rw, rh) => {
    expect(computeResizedSize({ width: w, height: h })).toEqual({ width: rw, height: rh });
  });

  it('uses the research defaults', () => {
    expect(DEFAULT_RESIZE).toEqual({ factor: 28, minPixels: 3136, maxPixels: 401408 });
  });

  it('honours custom resize options', () => {
    // factor 14, no clamping in range: each side rounded to a multiple of 14.
    expect(computeResizedSize({ width: 100, height: 50 }, { factor: 14, minPixels: 1, maxPixels: 1e9 })).toEqual({
      width: 98,
      height: 56,
    });
  });

  it('gives multiples of 28 within [min, max] pixels, keeping the aspect ratio up to one factor per side', () => {
    const size = fc
      .tuple(fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 1, max: 6000 }))
      .filter(([w, h]) => Math.max(w, h) / Math.min(w, h) <= 200); // Qwen's own aspect limit
    fc.assert(
      fc.property(size, ([w, h]) => {
        const r = computeResizedSize({ width: w, height: h });
        expect(r.width % 28).toBe(0);
        expect(r.height % 28).toBe(0);
        expect(r.width * r.height).toBeLessThanOrEqual(401_408);
        expect(r.width * r.height).toBeGreaterThanOrEqual(3_136);
        // Some common scale c puts both sides within one factor of c·side.
        const lo = Math.max((r.width - 28) / w, (r.height - 28) / h);
        const hi = Math.min((r.width + 28) / w, (r.height + 28) / h);
        expect(lo).toBeLessThanOrEqual(hi + 1e-12);
      }),
    );
  });

  it('keeps the total within max_pixels (or refuses) for extreme aspect ratios', () => {
    // docs/method.md §2: total pixels clamped to [min_pixels, max_pixels]; Qwen itself raises above aspect 200.
    for (const size of [
      { width: 30_000, height: 10 },
      { width: 1_000_000, height: 1 },
    ]) {
      let r: ImageSize;
      try {
        r = computeResizedSize(size);
      } catch (error) {
        expect(isDifferadError(error)).toBe(true);
        continue;
      }
      expect(r.width * r.height).toBeLessThanOrEqual(401_408);
    }
  });

  it('throws FRAME_INVALID_SIZE for non-positive or non-numeric sizes', () => {
    for (const size of [
      { width: 0, height: 10 },
      { width: 10, height: 0 },
      { width: -5, height: 10 },
      { width: Number.NaN, height: 10 },
    ]) {
      expect(
        isDifferadError(
          errorOf(() => computeResizedSize(size)),
          'FRAME_INVALID_SIZE',
        ),
      ).toBe(true);
    }
  });

  it('throws FRAME_INVALID_RESIZE for impossible resize options', () => {
    const size = { width: 100, height: 100 };
    for (const options of [
      { factor: 0, minPixels: 1, maxPixels: 10 },
      { factor: 28, minPixels: 0, maxPixels: 10 },
      { factor: 28, minPixels: 100, maxPixels: 10 },
    ]) {
      expect(
        isDifferadError(
          errorOf(() => computeResizedSize(size, options)),
          'FRAME_INVALID_RESIZE',
        ),
      ).toBe(true);
    }
  });
});

describe('toModelFrame / toPixelFrame', () => {
  const size = { width: 400, height: 200 };

  it('converts pixels to norm1000 with rounding', () => {
    expect(toModelFrame([40, 20, 120, 100], 'norm1000', size)).toEqual([100, 100, 300, 500]);
    expect(toModelFrame([1, 1, 3, 3], 'norm1000', { width: 3, height: 3 })).toEqual([333, 333, 1000, 1000]);
  });

  it('converts norm1000 back to (unrounded) pixels', () => {
    expect(toPixelFrame([100, 100, 300, 500], 'norm1000', size)).toEqual([40, 20, 120, 100]);
    expect(toPixelFrame([333, 0, 1000, 1000], 'norm1000', { width: 3, height: 3 })[0]).toBeCloseTo(0.999, 12);
  });

  it('converts to and from resized pixels (640×640 → 616×616)', () => {
    expect(toModelFrame([64, 64, 320, 320], 'resized-pixels', { width: 640, height: 640 })).toEqual([62, 62, 308, 308]);
    const back = toPixelFrame([62, 62, 308, 308], 'resized-pixels', { width: 640, height: 640 });
    expect(back[0]).toBeCloseTo((62 * 640) / 616, 9);
    expect(back[2]).toBeCloseTo(320, 9);
  });

  it('clamps to the model frame', () => {
    expect(toModelFrame([-10, -5, 450, 260], 'norm1000', size)).toEqual([0, 0, 1000, 1000]);
    expect(toModelFrame([-10, -5, 700, 900], 'resized-pixels', { width: 640, height: 640 })).toEqual([0, 0, 616, 616]);
  });

  it('keeps the empty box empty in every frame', () => {
    for (const frame of ['pixels', 'norm1000', 'resized-pixels'] as const) {
      expect(toModelFrame(EMPTY_BOX, frame, size)).toEqual([0, 0, 0, 0]);
      expect(toPixelFrame(EMPTY_BOX, frame, size)).toEqual([0, 0, 0, 0]);
    }
  });

  it('is the identity for the pixels frame', () => {
    const box: Box = [1.5, 2.25, 30.75, 40];
    expect(toModelFrame(box, 'pixels', size)).toEqual(box);
    expect(toPixelFrame(box, 'pixels', size)).toEqual(box);
  });

  it('throws a DifferadError for invalid sizes in the resized-pixels frame', () => {
    const bad = { width: 0, height: 100 };
    expect(isDifferadError(errorOf(() => toModelFrame([1, 1, 2, 2], 'resized-pixels', bad)))).toBe(true);
    expect(isDifferadError(errorOf(() => toPixelFrame([1, 1, 2, 2], 'resized-pixels', bad)))).toBe(true);
  });

  const imageAndBox = fc.tuple(fc.integer({ min: 28, max: 5000 }), fc.integer({ min: 28, max: 5000 })).chain(([w, h]) =>
    fc
      .tuple(
        fc.double({ min: 0, max: w, noNaN: true }),
        fc.double({ min: 0, max: w, noNaN: true }),
        fc.double({ min: 0, max: h, noNaN: true }),
        fc.double({ min: 0, max: h, noNaN: true }),
      )
      .map(([xa, xb, ya, yb]) => ({
        size: { width: w, height: h },
        box: [Math.min(xa, xb), Math.min(ya, yb), Math.max(xa, xb), Math.max(ya, yb)] as Box,
      })),
  );

  it('round-trips through norm1000 within one unit (half a unit of rounding, or a collapsed span widened)', () => {
    fc.assert(
      fc.property(imageAndBox, ({ size: s, box }) => {
        const model = toModelFrame(box, 'norm1000', s);
        for (const v of model) {
          expect(Number.isInteger(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1000);
        }
        const back = toPixelFrame(model, 'norm1000', s);
        const tol = [s.width, s.height, s.width, s.height].map((d) => d / 1000 + 1e-9);
        back.forEach((v, i) => expect(Math.abs(v - box[i]!)).toBeLessThanOrEqual(tol[i]!));
      }),
    );
  });

  it('round-trips through resized pixels within one resized pixel', () => {
    fc.assert(
      fc.property(imageAndBox, ({ size: s, box }) => {
        const r = computeResizedSize(s);
        const model = toModelFrame(box, 'resized-pixels', s);
        model.forEach((v, i) => {
          expect(Number.isInteger(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(i % 2 === 0 ? r.width : r.height);
        });
        const back = toPixelFrame(model, 'resized-pixels', s);
        const tol = [s.width / r.width, s.height / r.height, s.width / r.width, s.height / r.height].map((f) => f + 1e-9);
        back.forEach((v, i) => expect(Math.abs(v - box[i]!)).toBeLessThanOrEqual(tol[i]!));
      }),
    );
  });

  it('keeps a tiny defect in a large image a one-unit box instead of the empty box', () => {
    const size = { width: 4000, height: 4000 };
    expect(toModelFrame([0, 0, 1, 1], 'norm1000', size)).toEqual([0, 0, 1, 1]);
    expect(toModelFrame([10, 10, 11, 11], 'norm1000', size)).toEqual([3, 3, 4, 4]);
    expect(toModelFrame([3999, 3999, 4000, 4000], 'norm1000', size)).toEqual([999, 999, 1000, 1000]);
  });
});

describe('toFrameResize', () => {
  it('sends images at their own size for pixels and Qwen-resized for the other frames', () => {
    const size = { width: 1121, height: 839 };
    expect(computeResizedSize(size, toFrameResize('pixels', DEFAULT_RESIZE))).toEqual(size);
    expect(computeResizedSize({ width: 5, height: 3 }, toFrameResize('pixels', DEFAULT_RESIZE))).toEqual({ width: 5, height: 3 });
    expect(toFrameResize('norm1000', DEFAULT_RESIZE)).toBe(DEFAULT_RESIZE);
    expect(toFrameResize('resized-pixels', DEFAULT_RESIZE)).toBe(DEFAULT_RESIZE);
  });
});
