import type { Box, Rng } from '@differad/core';
import type { BinaryMask } from '../masks/binary-mask.js';
import { computeConnectedComponents, computeForegroundBox, findLargestComponent } from '../masks/connected-components.js';
import { computeOtsuThreshold } from '../masks/otsu.js';
import { type Augmentation, augmentTexture } from './augment.js';
import { computePerlinNoise, drawPerlinOptions, thresholdNoise } from './perlin.js';
import { clampByte, type RgbImage, rotateMask, rotateRgb, toGray } from './rgb.js';

/** Knobs of Algorithm 1 (docs/method.md §9); `DEFAULT_SYNTHESIS_OPTIONS` holds the method's values. */
export interface SynthesisOptions {
  /** Probability that a pair is normal (target = reference, empty box). */
  readonly pNormal: number;
  /** Smallest accepted anomaly, in pixels. */
  readonly minArea: number;
  /** Noise redraws before falling back to an elliptical anomaly. */
  readonly maxTries: number;
  /** β ~ U(0, betaMax) in the blend. */
  readonly betaMax: number;
  /** Brightness jitter of the target: gain ~ U(1 − j, 1 + j). */
  readonly brightnessJitter: number;
  /** Rotation of target and mask together: angle ~ U(−r, r) degrees. */
  readonly maxRotationDeg: number;
}

export const DEFAULT_SYNTHESIS_OPTIONS: SynthesisOptions = Object.freeze({
  pNormal: 0.25,
  minArea: 64,
  maxTries: 16,
  betaMax: 0.8,
  brightnessJitter: 0.08,
  maxRotationDeg: 3,
});

export interface SynthesizedPair {
  readonly target: RgbImage;
  /** 1 inside the anomaly; all 0 for a normal pair. */
  readonly mask: BinaryMask;
  /** Tight pixel box of the final mask; null for a normal pair. */
  readonly box: Box | null;
  readonly beta: number | null;
  readonly augmentations: readonly Augmentation[];
}

/**
 * Foreground of an object image by Otsu's threshold on its luma. The side of
 * the threshold that covers less of the image border is the object (the
 * background touches the border); a foreground under 5% of the image means
 * the split failed, and the whole image is used.
 */
export function computeOtsuForeground(image: RgbImage): BinaryMask {
  const { width: w, height: h } = image;
  const gray = toGray(image);
  const t = computeOtsuThreshold(gray);
  let borderAbove = 0;
  let border = 0;
  for (let x = 0; x < w; x++) {
    borderAbove += (gray[x]! > t ? 1 : 0) + (gray[(h - 1) * w + x]! > t ? 1 : 0);
    border += 2;
  }
  for (let y = 1; y < h - 1; y++) {
    borderAbove += (gray[y * w]! > t ? 1 : 0) + (gray[y * w + w - 1]! > t ? 1 : 0);
    border += 2;
  }
  const objectIsBright = borderAbove < border / 2;
  const data = new Uint8Array(w * h);
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = gray[i]! > t === objectIsBright ? 1 : 0;
    data[i] = v;
    count += v;
  }
  if (count < 0.05 * data.length) data.fill(1);
  return { data, width: w, height: h };
}

/** Perlin noise ∩ foreground, reduced to its largest component of at least minArea pixels. */
function drawAnomalyMask(rng: Rng, foreground: BinaryMask | null, width: number, height: number, o: SynthesisOptions): Uint8Array {
  for (let attempt = 0; attempt < o.maxTries; attempt++) {
    const mask = thresholdNoise(computePerlinNoise(rng, drawPerlinOptions(rng, width, height)), 0.5);
    if (foreground) for (let i = 0; i < mask.length; i++) mask[i]! &= foreground.data[i]!;
    const { labels, components } = computeConnectedComponents({ data: mask, width, height }, 8);
    const largest = findLargestComponent(components);
    if (largest === null || largest.area < o.minArea) continue;
    for (let i = 0; i < mask.length; i++) mask[i] = labels[i] === largest.label ? 1 : 0;
    return mask;
  }
  return drawFallbackEllipse(rng, foreground, width, height);
}

/**
 * An ellipse centred on a random foreground pixel, for objects too thin for
 * the noise to hit, cut to the foreground so it never spills onto background
 * (or the padding of a `contain` reference).
 */
function drawFallbackEllipse(rng: Rng, foreground: BinaryMask | null, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  let cx = rng.int(0, width - 1);
  let cy = rng.int(0, height - 1);
  let clipTo: BinaryMask | null = null;
  if (foreground) {
    const inside: number[] = [];
    for (let i = 0; i < foreground.data.length; i += 7) if (foreground.data[i]) inside.push(i);
    // A foreground too small for the sparse scan is still a foreground.
    if (inside.length === 0) for (let i = 0; i < foreground.data.length; i++) if (foreground.data[i]) inside.push(i);
    if (inside.length > 0) {
      clipTo = foreground;
      const i = rng.pick(inside);
      cx = i % width;
      cy = Math.floor(i / width);
    }
  }
  const rx = Math.max(5, rng.uniform(0.04, 0.12) * width);
  const ry = Math.max(5, rng.uniform(0.04, 0.12) * height);
  for (let y = Math.max(0, Math.floor(cy - ry)); y <= Math.min(height - 1, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x <= Math.min(width - 1, Math.ceil(cx + rx)); x++) {
      if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) mask[y * width + x] = 1;
    }
  }
  // The centre is a foreground pixel, so the cut ellipse is never empty.
  if (clipTo) for (let i = 0; i < mask.length; i++) mask[i]! &= clipTo.data[i]!;
  return mask;
}

/**
 * tgt = ref·(1−M) + ((1−β)·tex + β·ref)·M, per pixel and channel (docs/method.md §9).
 * The texture may cover only the mask's box, placed at `origin` in the image.
 */
export function blendAnomaly(
  reference: RgbImage,
  texture: RgbImage,
  mask: Uint8Array,
  beta: number,
  origin: readonly [number, number] = [0, 0],
): RgbImage {
  const out = new Uint8Array(reference.data);
  const w = reference.width;
  const [ox, oy] = origin;
  for (let ty = 0; ty < texture.height; ty++) {
    for (let tx = 0; tx < texture.width; tx++) {
      const p = (ty + oy) * w + tx + ox;
      if (!mask[p]) continue;
      const t = 3 * (ty * texture.width + tx);
      for (let k = 0; k < 3; k++) out[3 * p + k] = clampByte((1 - beta) * texture.data[t + k]! + beta * reference.data[3 * p + k]!);
    }
  }
  return { data: out, width: reference.width, height: reference.height };
}

/**
 * Algorithm 1 for one pair: with probability pNormal the target is the
 * reference; otherwise a Perlin-noise anomaly inside the foreground is filled
 * with an augmented texture, blended with β ~ U(0, 0.8). Then brightness
 * jitter and a small rotation are applied to the target and the mask
 * together, and the box is the tight box of the final mask. Every random draw
 * comes from `rng`, in a fixed order, so a seed reproduces the pair exactly.
 */
export function synthesizePair(
  rng: Rng,
  input: {
    reference: RgbImage;
    foreground: BinaryMask | null;
    /** The texture for the region [x1, y1, x2, y2) of the image, at that region's size. */
    texture: (region: Box) => RgbImage;
  },
  options: SynthesisOptions = DEFAULT_SYNTHESIS_OPTIONS,
): SynthesizedPair {
  const { reference } = input;
  const { width, height } = reference;
  const normal = rng.next() < options.pNormal;
  let target: RgbImage = reference;
  let mask: Uint8Array = new Uint8Array(width * height);
  let beta: number | null = null;
  let augmentations: readonly Augmentation[] = [];
  if (!normal) {
    mask = drawAnomalyMask(rng, input.foreground, width, height, options);
    // Only the mask's box of the texture is ever seen: augment just that much.
    const region = computeForegroundBox({ data: mask, width, height })!;
    const augmented = augmentTexture(rng, input.texture(region));
    augmentations = augmented.applied;
    beta = rng.uniform(0, options.betaMax);
    target = blendAnomaly(reference, augmented.image, mask, beta, [region[0], region[1]]);
  }
  const gain = rng.uniform(1 - options.brightnessJitter, 1 + options.brightnessJitter);
  const angle = (rng.uniform(-options.maxRotationDeg, options.maxRotationDeg) * Math.PI) / 180;
  let finalMask = rotateMask(mask, width, height, angle);
  let finalAngle = angle;
  if (!normal && computeForegroundBox({ data: finalMask, width, height }) === null) {
    // The anomaly rotated out of the frame: keep it unrotated rather than lose it.
    finalMask = mask;
    finalAngle = 0;
  }
  target = rotateRgb(target, finalAngle, false, gain);
  const finalBinary = { data: finalMask, width, height };
  return { target, mask: finalBinary, box: normal ? null : computeForegroundBox(finalBinary), beta, augmentations };
}
