import type { Box } from '@differad/core';
import type { BinaryMask } from './binary-mask.js';

/** One connected component of a mask. */
export interface MaskComponent {
  /** 1-based label, in raster order of each component's first pixel. */
  readonly label: number;
  /** Number of pixels. */
  readonly area: number;
  /** Tight pixel box `[x1, y1, x2, y2]`, x2/y2 exclusive (so x2 − x1 is the width). */
  readonly box: Box;
}

/** Labels of every pixel (0 = background) and the components. */
export interface ConnectedComponents {
  readonly labels: Int32Array;
  readonly components: readonly MaskComponent[];
}

/** Neighbourhood of a pixel: 8 (default, diagonals connect) or 4. */
export type Connectivity = 4 | 8;

/**
 * Labels the connected components of a binary mask by breadth-first flood
 * fill with an explicit queue (no recursion, so no stack overflow on large
 * blobs). Each pixel is enqueued at most once: linear time, two typed arrays
 * of width×height.
 */
export function computeConnectedComponents(mask: BinaryMask, connectivity: Connectivity = 8): ConnectedComponents {
  const { data, width: w, height: h } = mask;
  const n = w * h;
  if (data.length !== n) throw new RangeError(`mask of ${data.length} pixels is not ${w}×${h}`);
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  const components: MaskComponent[] = [];
  for (let start = 0; start < n; start++) {
    if (data[start] === 0 || labels[start] !== 0) continue;
    const label = components.length + 1;
    labels[start] = label;
    queue[0] = start;
    let head = 0;
    let tail = 1;
    let x1 = w;
    let y1 = h;
    let x2 = -1;
    let y2 = -1;
    while (head < tail) {
      const p = queue[head++] as number;
      const y = (p / w) | 0;
      const x = p - y * w;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
      const yLo = y > 0 ? y - 1 : 0;
      const yHi = y < h - 1 ? y + 1 : y;
      const xLo = x > 0 ? x - 1 : 0;
      const xHi = x < w - 1 ? x + 1 : x;
      for (let ny = yLo; ny <= yHi; ny++) {
        for (let nx = xLo; nx <= xHi; nx++) {
          if (connectivity === 4 && nx !== x && ny !== y) continue;
          const q = ny * w + nx;
          if (data[q] !== 0 && labels[q] === 0) {
            labels[q] = label;
            queue[tail++] = q;
          }
        }
      }
    }
    components.push({ label, area: tail, box: [x1, y1, x2 + 1, y2 + 1] });
  }
  return { labels, components };
}

/** The component with the largest area; ties go to the first in raster order. Null when there is none. */
export function findLargestComponent(components: readonly MaskComponent[]): MaskComponent | null {
  let best: MaskComponent | null = null;
  for (const c of components) if (best === null || c.area > best.area) best = c;
  return best;
}

/** Tight box of all foreground pixels (x2/y2 exclusive), or null for an empty mask. One pass, no labelling. */
export function computeForegroundBox(mask: BinaryMask): Box | null {
  const { data, width: w, height: h } = mask;
  let x1 = w;
  let y1 = h;
  let x2 = -1;
  let y2 = -1;
  for (let y = 0, p = 0; y < h; y++) {
    for (let x = 0; x < w; x++, p++) {
      if (data[p] === 0) continue;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      y2 = y;
    }
  }
  return x2 < 0 ? null : [x1, y1, x2 + 1, y2 + 1];
}

/** Options of computeMaskBox. */
export interface MaskBoxOptions {
  /** 'largest' (default, docs/method.md §10): the largest component's box; 'all': the box of all kept foreground. */
  readonly mode?: 'largest' | 'all';
  /** Components smaller than this are ignored as noise (default 1: keep all). */
  readonly minArea?: number;
  readonly connectivity?: Connectivity;
}

/**
 * Mask → box (docs/method.md §10): the tight box of the largest connected component,
 * or of all foreground; null when nothing (of at least `minArea`) is left,
 * which is the empty box of a normal sample.
 */
export function computeMaskBox(mask: BinaryMask, options: MaskBoxOptions = {}): Box | null {
  const mode = options.mode ?? 'largest';
  const minArea = options.minArea ?? 1;
  if (mode === 'all' && minArea <= 1) return computeForegroundBox(mask);
  const kept = computeConnectedComponents(mask, options.connectivity ?? 8).components.filter((c) => c.area >= minArea);
  if (mode === 'largest') return findLargestComponent(kept)?.box ?? null;
  if (kept.length === 0) return null;
  return kept.reduce<Box>(
    (u, c) => [Math.min(u[0], c.box[0]), Math.min(u[1], c.box[1]), Math.max(u[2], c.box[2]), Math.max(u[3], c.box[3])],
    kept[0]!.box,
  );
}
