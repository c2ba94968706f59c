import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Box } from '../boxes/box.js';
import { createRng } from '../random/rng.js';
import { parseDeeppcbAnnotation } from './deeppcb-annotation.js';
import { isBoxInside, isOverlapping, selectDefectWindow, selectDefectWindows, selectNormalWindows } from './deeppcb-windows.js';

const IMAGE = { width: 640, height: 640 };

describe('parseDeeppcbAnnotation', () => {
  it('reads space- or comma-separated lines and names the defect types', () => {
    const parsed = parseDeeppcbAnnotation('469 438 507 465 1\n\n429,279,458,373,2\r\n10 10 30 30 6\n', IMAGE);
    expect(parsed.problems).toEqual([]);
    expect(parsed.defects).toEqual([
      { box: [469, 438, 507, 465], type: 'open', line: 1 },
      { box: [429, 279, 458, 373], type: 'short', line: 3 },
      { box: [10, 10, 30, 30], type: 'pin-hole', line: 4 },
    ]);
  });

  it('reports too few numbers, unknown types, inverted boxes and boxes outside the image with their line', () => {
    const parsed = parseDeeppcbAnnotation('1 2 3 4\n10 10 20 20 7\n30 30 20 40 1\n600 600 660 630 3\nx 1 2 3 4\n', IMAGE);
    expect(parsed.defects).toEqual([]);
    expect(parsed.problems.map((p) => p.line)).toEqual([1, 2, 3, 4, 5]);
    expect(parsed.problems[0]?.message).toMatch(/got 4 value/);
    expect(parsed.problems[1]?.message).toMatch(/type 7/);
    expect(parsed.problems[3]?.message).toMatch(/outside the 640×640 image/);
  });
});

describe('selectDefectWindow', () => {
  it('centres the window on an isolated defect', () => {
    const w = selectDefectWindow([[300, 300, 340, 320]], 0, IMAGE, 160);
    expect(w).toEqual({ index: 0, ok: true, window: [240, 230, 400, 390] });
  });

  it('shifts the window away from a neighbour as little as possible', () => {
    const boxes: Box[] = [
      [200, 200, 230, 230],
      [250, 200, 280, 230],
    ];
    // Centred would be [175,175,255,255], which overlaps the neighbour; its edge (x 250) may be touched.
    expect(selectDefectWindow(boxes, 0, IMAGE, 80)).toEqual({ index: 0, ok: true, window: [170, 175, 250, 255] });
    // Near the image corner the window is clamped inside the image.
    expect(selectDefectWindow([[0, 630, 10, 640]], 0, IMAGE, 80)).toEqual({ index: 0, ok: true, window: [0, 560, 80, 640] });
  });

  it('gives no window when the defect is too close to another or larger than the window', () => {
    const boxes: Box[] = [
      [100, 100, 130, 130],
      [140, 100, 170, 130],
      [180, 100, 210, 130],
      [300, 300, 500, 340],
    ];
    expect(selectDefectWindows(boxes, IMAGE, 160).map((w) => (w.ok ? 'ok' : w.reason))).toEqual([
      'too-close-to-another',
      'too-close-to-another',
      'ok',
      'larger-than-window',
    ]);
  });

  const boxArb = fc
    .tuple(
      fc.integer({ min: 0, max: 600 }),
      fc.integer({ min: 0, max: 600 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 60 }),
    )
    .map(([x, y, w, h]): Box => [x, y, Math.min(640, x + w), Math.min(640, y + h)]);

  it('every window holds its defect, shares no area with another and lies in the image (property)', () => {
    fc.assert(
      fc.property(fc.array(boxArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 64, max: 200 }), (boxes, size) => {
        for (const w of selectDefectWindows(boxes, IMAGE, size)) {
          if (!w.ok) continue;
          const [x1, y1, x2, y2] = w.window;
          expect(x2 - x1).toBe(size);
          expect(y2 - y1).toBe(size);
          expect(x1 >= 0 && y1 >= 0 && x2 <= 640 && y2 <= 640).toBe(true);
          expect(isBoxInside(boxes[w.index]!, w.window)).toBe(true);
          boxes.forEach((b, k) => k !== w.index && expect(isOverlapping(w.window, b)).toBe(false));
        }
      }),
    );
  });

  it('finds a window whenever a brute-force search over every position does (property)', () => {
    fc.assert(
      fc.property(fc.array(boxArb, { minLength: 2, maxLength: 6 }), (boxes) => {
        const size = 100;
        const small = { width: 240, height: 240 };
        const clipped = boxes
          .map((b): Box => [Math.min(b[0], 200), Math.min(b[1], 200), Math.min(b[2], 240), Math.min(b[3], 240)])
          .filter((b) => b[2] > b[0] && b[3] > b[1]);
        if (clipped.length === 0) return;
        const w = selectDefectWindow(clipped, 0, small, size);
        let exists = false;
        for (let x = 0; x <= 140 && !exists; x++) {
          for (let y = 0; y <= 140 && !exists; y++) {
            const win: Box = [x, y, x + size, y + size];
            exists = isBoxInside(clipped[0]!, win) && clipped.every((b, k) => k === 0 || !isOverlapping(win, b));
          }
        }
        expect(w.ok).toBe(exists);
      }),
      { numRuns: 60 },
    );
  });
});

describe('selectNormalWindows', () => {
  it('returns windows that touch no defect nor each other, the same for the same seed', () => {
    const boxes: Box[] = [
      [100, 100, 140, 140],
      [400, 300, 450, 330],
    ];
    const a = selectNormalWindows(boxes, IMAGE, 160, 3, createRng('x'));
    const b = selectNormalWindows(boxes, IMAGE, 160, 3, createRng('x'));
    expect(a).toEqual(b);
    expect(a).toHaveLength(3);
    for (const w of a) {
      expect(boxes.some((d) => isOverlapping(w, d))).toBe(false);
      expect(w[2] <= 640 && w[3] <= 640).toBe(true);
    }
    expect(isOverlapping(a[0]!, a[1]!) || isOverlapping(a[0]!, a[2]!) || isOverlapping(a[1]!, a[2]!)).toBe(false);
  });

  it('returns none when defects cover every position or the image is smaller than the window', () => {
    expect(selectNormalWindows([[0, 0, 640, 640]], IMAGE, 160, 2, createRng(1))).toEqual([]);
    expect(selectNormalWindows([], { width: 100, height: 100 }, 160, 2, createRng(1))).toEqual([]);
  });
});
