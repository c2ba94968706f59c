import type { Box } from '@differad/core';
import type { RawImage } from '../encode/write-image.js';
import { computeConnectedComponents, findLargestComponent } from '../masks/connected-components.js';

/** Settings of one detection, as sampled from the CPU policy (already clamped). */
export interface DetectorParams {
  /** Difference in [0, 1] of full scale above which a pixel is anomalous. */
  readonly threshold: number;
  /** Box-blur radius of the difference map, in working pixels. */
  readonly blur: number;
  /** Smallest anomaly, as a share of the image area. */
  readonly minAreaShare: number;
  /** Largest translation searched when aligning the target, in working pixels. */
  readonly maxShift: number;
}

export interface Detection {
  /** Box in pixels of the target; null means "normal". */
  readonly box: Box | null;
  /** The blurred difference map at the working size (row-major, values in [0, 1]). */
  readonly map: Float32Array;
  readonly mapWidth: number;
  readonly mapHeight: number;
  /** Translation (dx, dy) of the target that best matched the reference. */
  readonly shift: readonly [number, number];
}

/** Grey levels in [0, 1] at a working size whose long side is at most `maxSide` (area average). */
export function toWorkingGray(image: RawImage, maxSide: number): { data: Float32Array; width: number; height: number; scale: number } {
  const scale = Math.max(1, Math.ceil(Math.max(image.width, image.height) / maxSide));
  const w = Math.floor(image.width / scale);
  const h = Math.floor(image.height / scale);
  const out = new Float32Array(w * h);
  const c = image.channels;
  const colours = c === 4 ? 3 : c;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = ((y * scale + dy) * image.width + x * scale + dx) * c;
          for (let k = 0; k < colours; k++) sum += image.data[i + k]!;
        }
      }
      out[y * w + x] = sum / (scale * scale * colours * 255);
    }
  }
  return { data: out, width: w, height: h, scale };
}

/** The translation of `target` within ±maxShift that minimizes the mean absolute difference. */
function findShift(ref: Float32Array, tgt: Float32Array, w: number, h: number, maxShift: number): [number, number] {
  let best: [number, number] = [0, 0];
  let bestCost = Infinity;
  const step = Math.max(1, Math.floor(Math.min(w, h) / 64));
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      let cost = 0;
      let n = 0;
      for (let y = maxShift; y < h - maxShift; y += step) {
        for (let x = maxShift; x < w - maxShift; x += step) {
          cost += Math.abs(ref[y * w + x]! - tgt[(y + dy) * w + x + dx]!);
          n++;
        }
      }
      const mean = n > 0 ? cost / n : 0;
      // Prefer no shift on ties, so an unmoved pair is never re-aligned by noise.
      if (mean < bestCost - 1e-9 || (Math.abs(mean - bestCost) <= 1e-9 && dx === 0 && dy === 0)) {
        bestCost = mean;
        best = [dx, dy];
      }
    }
  }
  return best;
}

/** Separable box blur with clamped edges, O(n) per pass whatever the radius. */
export function boxBlur(map: Float32Array, w: number, h: number, radius: number): Float32Array {
  const r = Math.round(radius);
  if (r <= 0) return map;
  const tmp = new Float32Array(map.length);
  const out = new Float32Array(map.length);
  const pass = (src: Float32Array, dst: Float32Array, len: number, lines: number, at: (line: number, i: number) => number) => {
    for (let line = 0; line < lines; line++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += src[at(line, Math.min(len - 1, Math.max(0, i)))]!;
      for (let i = 0; i < len; i++) {
        dst[at(line, i)] = acc / (2 * r + 1);
        acc += src[at(line, Math.min(len - 1, i + r + 1))]! - src[at(line, Math.max(0, i - r))]!;
      }
    }
  };
  pass(map, tmp, w, h, (line, i) => line * w + i);
  pass(tmp, out, h, w, (line, i) => i * w + line);
  return out;
}

/**
 * The reference-difference detector behind the built-in CPU policy: align the
 * target to the reference (translation search), take the absolute grey-level
 * difference, blur it, threshold it, and return the tight box of the largest
 * connected component that is big enough — or null when none is.
 */
export function detectDifference(reference: RawImage, target: RawImage, params: DetectorParams, maxSide = 160): Detection {
  const ref = toWorkingGray(reference, maxSide);
  const tgt = toWorkingGray(target, maxSide);
  const w = Math.min(ref.width, tgt.width);
  const h = Math.min(ref.height, tgt.height);
  const shiftLimit = Math.max(0, Math.min(params.maxShift, Math.floor(Math.min(w, h) / 4)));
  const [dx, dy] = findShift(ref.data, tgt.data, w, h, shiftLimit);
  const diff = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const tx = Math.min(w - 1, Math.max(0, x + dx));
      const ty = Math.min(h - 1, Math.max(0, y + dy));
      diff[y * w + x] = Math.abs(ref.data[y * w + x]! - tgt.data[ty * w + tx]!);
    }
  }
  const map = boxBlur(diff, w, h, params.blur);
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < mask.length; i++) mask[i] = map[i]! > params.threshold ? 1 : 0;
  const largest = findLargestComponent(computeConnectedComponents({ data: mask, width: w, height: h }).components);
  let box: Box | null = null;
  if (largest !== null && largest.area >= Math.max(1, params.minAreaShare * w * h)) {
    // Back to target pixels: undo the working scale and the alignment shift.
    const sx = target.width / tgt.width;
    const sy = target.height / tgt.height;
    const clampX = (v: number) => Math.min(target.width, Math.max(0, v));
    const clampY = (v: number) => Math.min(target.height, Math.max(0, v));
    const [x1, y1, x2, y2] = largest.box;
    box = [clampX((x1 + dx) * sx), clampY((y1 + dy) * sy), clampX((x2 + dx) * sx), clampY((y2 + dy) * sy)];
    if (!(box[2] > box[0] && box[3] > box[1])) box = null;
  }
  return { box, map, mapWidth: w, mapHeight: h, shift: [dx, dy] };
}
