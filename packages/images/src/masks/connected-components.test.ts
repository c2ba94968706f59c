import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BinaryMask, computeForegroundCount } from './binary-mask.js';
import { computeConnectedComponents, computeForegroundBox, computeMaskBox, findLargestComponent } from './connected-components.js';

/** A mask from rows of '#' (foreground) and '.' (background). */
function maskOf(...rows: string[]): BinaryMask {
  const width = rows[0]?.length ?? 0;
  const data = new Uint8Array(width * rows.length);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { data, width, height: rows.length };
}

describe('computeConnectedComponents', () => {
  it('joins diagonal neighbours with 8-connectivity and not with 4', () => {
    const mask = maskOf('#...', '.#..', '..#.', '...#');
    expect(computeConnectedComponents(mask).components).toEqual([{ label: 1, area: 4, box: [0, 0, 4, 4] }]);
    expect(computeConnectedComponents(mask, 4).components).toHaveLength(4);
  });

  it('finds several components with their areas and tight boxes, labelled in raster order', () => {
    const mask = maskOf('##......#', '##......#', '........#', '...###...', '...#.#...', '...###..#');
    const { components, labels } = computeConnectedComponents(mask);
    expect(components).toEqual([
      { label: 1, area: 4, box: [0, 0, 2, 2] },
      { label: 2, area: 3, box: [8, 0, 9, 3] },
      { label: 3, area: 8, box: [3, 3, 6, 6] },
      { label: 4, area: 1, box: [8, 5, 9, 6] },
    ]);
    expect(labels[4 * 9 + 4]).toBe(0); // the hole of the ring is background
    expect(findLargestComponent(components)?.box).toEqual([3, 3, 6, 6]);
    expect(computeMaskBox(mask)).toEqual([3, 3, 6, 6]);
    expect(computeMaskBox(mask, { mode: 'all' })).toEqual([0, 0, 9, 6]);
    expect(computeMaskBox(mask, { mode: 'all', minArea: 3 })).toEqual([0, 0, 9, 6]);
    expect(computeMaskBox(mask, { mode: 'all', minArea: 4 })).toEqual([0, 0, 6, 6]);
    expect(computeMaskBox(mask, { minArea: 9 })).toBeNull();
  });

  it('breaks ties of the largest area by raster order, and returns null for an empty mask', () => {
    const mask = maskOf('##..', '....', '..##');
    expect(computeMaskBox(mask)).toEqual([0, 0, 2, 1]);
    expect(computeMaskBox(maskOf('....', '....'))).toBeNull();
    expect(computeForegroundBox(maskOf('....'))).toBeNull();
  });

  it('handles a full mask and a snake far longer than any recursion limit', () => {
    const w = 1000;
    const h = 1000;
    const data = new Uint8Array(w * h);
    // A serpentine one-pixel path through every other row: a single component of ~500k pixels.
    for (let y = 0; y < h; y += 2) {
      data.fill(1, y * w, (y + 1) * w);
      if (y + 1 < h) data[(y + 1) * w + ((y / 2) % 2 === 0 ? w - 1 : 0)] = 1;
    }
    const { components } = computeConnectedComponents({ data, width: w, height: h }, 4);
    expect(components).toHaveLength(1);
    expect(components[0]?.area).toBe(computeForegroundCount({ data, width: w, height: h }));
    expect(computeConnectedComponents({ data: new Uint8Array(12).fill(1), width: 4, height: 3 }).components).toEqual([
      { label: 1, area: 12, box: [0, 0, 4, 3] },
    ]);
  });

  it('property: areas sum to the foreground count and each box holds exactly its pixels', () => {
    const maskArb = fc
      .record({ width: fc.integer({ min: 1, max: 24 }), height: fc.integer({ min: 1, max: 24 }) })
      .chain(({ width, height }) =>
        fc.uint8Array({ minLength: width * height, maxLength: width * height, min: 0, max: 1 }).map((data) => ({ data, width, height })),
      );
    fc.assert(
      fc.property(maskArb, fc.constantFrom(4 as const, 8 as const), (mask, connectivity) => {
        const { labels, components } = computeConnectedComponents(mask, connectivity);
        const total = components.reduce((s, c) => s + c.area, 0);
        if (total !== computeForegroundCount(mask)) return false;
        const counted = new Array<number>(components.length + 1).fill(0);
        for (let y = 0; y < mask.height; y++) {
          for (let x = 0; x < mask.width; x++) {
            const label = labels[y * mask.width + x] as number;
            if ((label === 0) !== (mask.data[y * mask.width + x] === 0)) return false;
            if (label === 0) continue;
            counted[label]!++;
            const [x1, y1, x2, y2] = components[label - 1]!.box;
            if (x < x1 || x >= x2 || y < y1 || y >= y2) return false;
          }
        }
        // Tight: every box edge row/column holds a pixel of its component.
        return components.every((c) => {
          const [x1, y1, x2, y2] = c.box;
          const has = (x: number, y: number) => labels[y * mask.width + x] === c.label;
          const rowHas = (y: number) => Array.from({ length: x2 - x1 }, (_, i) => x1 + i).some((x) => has(x, y));
          const colHas = (x: number) => Array.from({ length: y2 - y1 }, (_, i) => y1 + i).some((y) => has(x, y));
          return counted[c.label] === c.area && rowHas(y1) && rowHas(y2 - 1) && colHas(x1) && colHas(x2 - 1);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('property: with 8-connectivity the components touch no other component, even diagonally', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 144, maxLength: 144, min: 0, max: 1 }), (data) => {
        const { labels } = computeConnectedComponents({ data, width: 12, height: 12 });
        for (let y = 0; y < 12; y++) {
          for (let x = 0; x < 12; x++) {
            const a = labels[y * 12 + x] as number;
            for (const [dx, dy] of [
              [1, 0],
              [0, 1],
              [1, 1],
              [-1, 1],
            ] as const) {
              const nx = x + dx;
              const ny = y + dy;
              if (nx < 0 || nx >= 12 || ny >= 12) continue;
              const b = labels[ny * 12 + nx] as number;
              if (a !== 0 && b !== 0 && a !== b) return false;
            }
          }
        }
        return true;
      }),
    );
  });
});
