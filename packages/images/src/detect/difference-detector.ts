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
  /**
   * Local misalignment forgiven, in working pixels (rounded, 0..MAX_TOLERANCE):
   * a pixel differs only by its smallest difference to the other image within
   * this radius (see {@link computeToleranceDifference}). 0 is the plain difference.
   */
  readonly tolerance?: number;
  /** Margin added on every side of the found box, as a share of the image's long side (negative shrinks it). */
  readonly padShare?: number;
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

/** Colour levels in [0, 1], three per pixel (RGB, interleaved), at the working size of {@link toWorkingGray} (area average). */
export function toWorkingColour(image: RawImage, maxSide: number): { data: Float32Array; width: number; height: number } {
  const scale = Math.max(1, Math.ceil(Math.max(image.width, image.height) / maxSide));
  const w = Math.floor(image.width / scale);
  const h = Math.floor(image.height / scale);
  const out = new Float32Array(w * h * 3);
  const c = image.channels;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) sum += image.data[((y * scale + dy) * image.width + x * scale + dx) * c + (c < 3 ? 0 : k)]!;
        }
        out[(y * w + x) * 3 + k] = sum / (scale * scale * 255);
      }
    }
  }
  return { data: out, width: w, height: h };
}

/** The largest of the three channel differences of pixel i of `a` and pixel j of `b` (interleaved RGB). */
function colourDistance(a: Float32Array, i: number, b: Float32Array, j: number): number {
  const d0 = Math.abs(a[3 * i]! - b[3 * j]!);
  const d1 = Math.abs(a[3 * i + 1]! - b[3 * j + 1]!);
  const d2 = Math.abs(a[3 * i + 2]! - b[3 * j + 2]!);
  return d0 > d1 ? (d0 > d2 ? d0 : d2) : d1 > d2 ? d1 : d2;
}

/** The translation of `target` within ±maxShift that minimizes the mean absolute difference. */
function findShift(
  ref: Float32Array,
  tgt: Float32Array,
  w: number,
  h: number,
  maxShift: number,
  refStride: number,
  tgtStride: number,
): [number, number] {
  let best: [number, number] = [0, 0];
  let bestCost = Infinity;
  const step = Math.max(1, Math.floor(Math.min(w, h) / 64));
  for (let dy = -maxShift; dy <= maxShift; dy++) {
    for (let dx = -maxShift; dx <= maxShift; dx++) {
      let cost = 0;
      let n = 0;
      for (let y = maxShift; y < h - maxShift; y += step) {
        for (let x = maxShift; x < w - maxShift; x += step) {
          cost += Math.abs(ref[y * refStride + x]! - tgt[(y + dy) * tgtStride + x + dx]!);
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

/** The aligned, unblurred difference of a pair at the working size: what every sampled detection starts from. */
export interface DifferenceMap {
  /** Per pixel, the largest channel difference |reference − aligned target|: tolerance 0. */
  readonly diff: Float32Array;
  /** Colour levels of the reference and of the aligned target at the working size (row-major, interleaved RGB). */
  readonly reference: Float32Array;
  readonly alignedTarget: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly shift: readonly [number, number];
  /** Target pixels per working pixel, per axis. */
  readonly scaleX: number;
  readonly scaleY: number;
  readonly targetWidth: number;
  readonly targetHeight: number;
}

/**
 * Aligns the target to the reference (translation search within ±maxShift
 * working pixels, on grey levels) and takes per pixel the largest absolute
 * channel difference. Independent
 * of the sampled parameters, so one request computes it once for all n
 * completions.
 */
export function computeDifferenceMap(reference: RawImage, target: RawImage, maxShift: number, maxSide = 160): DifferenceMap {
  const ref = toWorkingGray(reference, maxSide);
  const tgt = toWorkingGray(target, maxSide);
  const w = Math.min(ref.width, tgt.width);
  const h = Math.min(ref.height, tgt.height);
  const shiftLimit = Math.max(0, Math.min(maxShift, Math.floor(Math.min(w, h) / 4)));
  const [dx, dy] = findShift(ref.data, tgt.data, w, h, shiftLimit, ref.width, tgt.width);
  // Colour, not grey: a patch of another hue but the same brightness differs too.
  const refColour = toWorkingColour(reference, maxSide);
  const tgtColour = toWorkingColour(target, maxSide);
  const referenceRgb = new Float32Array(w * h * 3);
  const alignedTarget = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const tx = Math.min(w - 1, Math.max(0, x + dx));
      const ty = Math.min(h - 1, Math.max(0, y + dy));
      referenceRgb.set(refColour.data.subarray((y * refColour.width + x) * 3, (y * refColour.width + x) * 3 + 3), (y * w + x) * 3);
      alignedTarget.set(tgtColour.data.subarray((ty * tgtColour.width + tx) * 3, (ty * tgtColour.width + tx) * 3 + 3), (y * w + x) * 3);
    }
  }
  const diff = new Float32Array(w * h);
  for (let i = 0; i < diff.length; i++) diff[i] = colourDistance(referenceRgb, i, alignedTarget, i);
  return {
    diff,
    reference: referenceRgb,
    alignedTarget,
    width: w,
    height: h,
    shift: [dx, dy],
    scaleX: target.width / tgt.width,
    scaleY: target.height / tgt.height,
    targetWidth: target.width,
    targetHeight: target.height,
  };
}

/** Largest tolerance radius, in working pixels. */
export const MAX_TOLERANCE = 3;

/**
 * The difference with a local misalignment of up to `radius` working pixels
 * forgiven: per pixel, the larger of (the target's smallest colour difference
 * to any reference pixel within the radius) and (the reference's smallest
 * difference to any target pixel within it); a colour difference is the
 * largest of the three channel differences. Edges shifted by a pixel or two vanish; a
 * defect wider than the radius stays (copper that is there in one image and
 * not anywhere near in the other). Radius 0 is {@link DifferenceMap.diff}.
 */
export function computeToleranceDifference(map: DifferenceMap, radius: number): Float32Array {
  const r = Math.min(MAX_TOLERANCE, Math.max(0, Math.round(radius)));
  if (r === 0) return map.diff;
  const { width: w, height: h, reference: a, alignedTarget: b } = map;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const yLo = Math.max(0, y - r);
    const yHi = Math.min(h - 1, y + r);
    for (let x = 0; x < w; x++) {
      const xLo = Math.max(0, x - r);
      const xHi = Math.min(w - 1, x + r);
      const i = y * w + x;
      let toReference = Infinity;
      let toTarget = Infinity;
      for (let ny = yLo; ny <= yHi; ny++) {
        for (let nx = xLo; nx <= xHi; nx++) {
          const j = ny * w + nx;
          const d1 = colourDistance(b, i, a, j);
          if (d1 < toReference) toReference = d1;
          const d2 = colourDistance(a, i, b, j);
          if (d2 < toTarget) toTarget = d2;
        }
      }
      out[i] = Math.max(toReference, toTarget);
    }
  }
  return out;
}

/** Settings of {@link findAnomalyBox}: a detection's parameters without the alignment search. */
export type BoxParams = Omit<DetectorParams, 'maxShift'>;

/**
 * One detection on a difference map: the tolerance difference, blurred,
 * thresholded; the tight box of the largest connected component that is big
 * enough, widened by the pad on every side (clamped to the image), in target
 * pixels — or null when no component is big enough. `differences` caches the
 * tolerance maps of one pair across the completions of a request.
 */
export function findAnomalyBox(
  map: DifferenceMap,
  params: BoxParams,
  differences?: Map<number, Float32Array>,
): { box: Box | null; blurred: Float32Array } {
  const { width: w, height: h } = map;
  const radius = Math.min(MAX_TOLERANCE, Math.max(0, Math.round(params.tolerance ?? 0)));
  let difference = differences?.get(radius);
  if (difference === undefined) {
    difference = computeToleranceDifference(map, radius);
    differences?.set(radius, difference);
  }
  const blurred = boxBlur(difference, w, h, params.blur);
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < mask.length; i++) mask[i] = blurred[i]! > params.threshold ? 1 : 0;
  const largest = findLargestComponent(computeConnectedComponents({ data: mask, width: w, height: h }).components);
  if (largest === null || largest.area < Math.max(1, params.minAreaShare * w * h)) return { box: null, blurred };
  const [dx, dy] = map.shift;
  const pad = (params.padShare ?? 0) * Math.max(w, h);
  let [x1, y1, x2, y2] = largest.box;
  if (x2 - x1 + 2 * pad > 0 && y2 - y1 + 2 * pad > 0) [x1, y1, x2, y2] = [x1 - pad, y1 - pad, x2 + pad, y2 + pad];
  const cx = (v: number) => Math.min(map.targetWidth, Math.max(0, v));
  const cy = (v: number) => Math.min(map.targetHeight, Math.max(0, v));
  const box: Box = [cx((x1 + dx) * map.scaleX), cy((y1 + dy) * map.scaleY), cx((x2 + dx) * map.scaleX), cy((y2 + dy) * map.scaleY)];
  return { box: box[2] > box[0] && box[3] > box[1] ? box : null, blurred };
}

/**
 * The reference-difference detector behind the built-in CPU policy: align the
 * target to the reference, take the colour difference with the tolerance
 * forgiven, blur it, threshold it, and return the padded box of the largest
 * connected component that is big enough — or null when none is.
 */
export function detectDifference(reference: RawImage, target: RawImage, params: DetectorParams, maxSide = 160): Detection {
  const map = computeDifferenceMap(reference, target, params.maxShift, maxSide);
  const { box, blurred } = findAnomalyBox(map, params);
  return { box, map: blurred, mapWidth: map.width, mapHeight: map.height, shift: map.shift };
}
