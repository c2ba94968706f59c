import type { Box } from '@differad/core';
import type { BinaryMask } from '../masks/binary-mask.js';

/** How a defect-free image of any size becomes the size×size reference of synthesis. */
export const SQUARE_FITS = ['cover', 'contain'] as const;
export type SquareFit = (typeof SQUARE_FITS)[number];

/** Where an image lands in its size×size square. */
export interface SquareFitGeometry {
  /** Size the whole image is scaled to: then centre-cropped (cover) or padded (contain). */
  readonly scaled: { readonly width: number; readonly height: number };
  /** Pixels of the square that show the image, [x1, y1, x2, y2) — the whole square unless contain pads. */
  readonly content: Box;
  /** The image was enlarged (scale above 1). */
  readonly upscaled: boolean;
}

/**
 * `cover` scales the short side to `size` and centre-crops the long one;
 * `contain` scales the long side to `size` and centres the image, leaving
 * padding on the short side (content size rounded, offset rounded down).
 */
export function computeSquareFit(width: number, height: number, size: number, fit: SquareFit): SquareFitGeometry {
  const scale = fit === 'cover' ? size / Math.min(width, height) : size / Math.max(width, height);
  const side = (v: number) =>
    fit === 'cover' ? Math.max(size, Math.round(v * scale)) : Math.min(size, Math.max(1, Math.round(v * scale)));
  const scaled = { width: side(width), height: side(height) };
  if (fit === 'cover') return { scaled, content: [0, 0, size, size], upscaled: scale > 1 };
  const x1 = Math.floor((size - scaled.width) / 2);
  const y1 = Math.floor((size - scaled.height) / 2);
  return { scaled, content: [x1, y1, x1 + scaled.width, y1 + scaled.height], upscaled: scale > 1 };
}

/** The content box covers the whole square: nothing is padding. */
export function isWholeSquare(content: Box, size: number): boolean {
  return content[0] === 0 && content[1] === 0 && content[2] === size && content[3] === size;
}

const EPSILON = 1e-6;

/** Distance between two angles on the circle, in [0, π]. */
function angularDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % (2 * Math.PI);
  return d > Math.PI ? 2 * Math.PI - d : d;
}

/** Smallest and largest cos(φ + a) for a in [−θ, θ]. */
function cosRange(phi: number, theta: number): readonly [number, number] {
  const ends = [Math.cos(phi - theta), Math.cos(phi + theta)];
  const low = angularDistance(phi, Math.PI) <= theta ? -1 : Math.min(...ends);
  const high = angularDistance(phi, 0) <= theta ? 1 : Math.max(...ends);
  return [low, high];
}

/**
 * The pixels of `content` that stay inside it under any rotation of up to
 * `maxAngle` radians about the square's centre, the rotation synthesis applies
 * to target and mask together. An anomaly drawn here cannot rotate onto the
 * padding. Each pixel sweeps an arc, whose extremes are its ends or the axis
 * crossings on it; the arc must stay within the centres of the box's edge
 * pixels, because nearest-neighbour rotation (`rotateMask`) lands at most √2/2
 * from the exact position, which then still rounds to a pixel of the box.
 * Empty when the box is too thin for the angle.
 */
export function computeRotationSafeRegion(size: number, content: Box, maxAngle: number): BinaryMask {
  const [x1, y1, x2, y2] = content;
  const data = new Uint8Array(size * size);
  const c = (size - 1) / 2;
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      const dx = x - c;
      const dy = y - c;
      const r = Math.hypot(dx, dy);
      const phi = Math.atan2(dy, dx);
      const [cosLow, cosHigh] = cosRange(phi, maxAngle);
      // sin(φ + a) = cos(φ − π/2 + a).
      const [sinLow, sinHigh] = cosRange(phi - Math.PI / 2, maxAngle);
      // ε absorbs float error (c + r·cos φ is x only up to rounding); the √2/2 bound leaves far more room.
      const inside =
        c + r * cosLow >= x1 - EPSILON &&
        c + r * cosHigh <= x2 - 1 + EPSILON &&
        c + r * sinLow >= y1 - EPSILON &&
        c + r * sinHigh <= y2 - 1 + EPSILON;
      if (inside) data[y * size + x] = 1;
    }
  }
  return { data, width: size, height: size };
}

/**
 * Where a `contain` reference may take an anomaly: the rotation-safe part of
 * its content, or, for a sliver too thin to keep any pixel under the angle,
 * the whole content box (its edge may then rotate a pixel or two onto the
 * padding, rather than the anomaly having nowhere to go).
 */
export function computeAnomalyRegion(size: number, content: Box, maxAngle: number): BinaryMask {
  const region = computeRotationSafeRegion(size, content, maxAngle);
  if (region.data.includes(1)) return region;
  const [x1, y1, x2, y2] = content;
  for (let y = y1; y < y2; y++) region.data.fill(1, y * size + x1, y * size + x2);
  return region;
}

/** A mask of the content box's size placed at the box in a size×size mask of zeros. */
export function embedMask(mask: BinaryMask, size: number, content: Box): BinaryMask {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < mask.height; y++)
    data.set(mask.data.subarray(y * mask.width, (y + 1) * mask.width), (content[1] + y) * size + content[0]);
  return { data, width: size, height: size };
}

/** a ∩ b, or `b` alone when they do not meet (the restriction `b` always holds). */
export function intersectOrKeep(a: BinaryMask, b: BinaryMask): BinaryMask {
  const data = new Uint8Array(a.data.length);
  let any = 0;
  for (let i = 0; i < data.length; i++) any |= data[i] = a.data[i]! & b.data[i]!;
  return any ? { data, width: a.width, height: a.height } : b;
}
