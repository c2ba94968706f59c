import type { Rng } from '@differad/core';

/** Settings of one Perlin noise field (docs/method.md §9). */
export interface PerlinOptions {
  readonly width: number;
  readonly height: number;
  /** Grid periods across the image: 2^k with k ∈ [0, 6) per axis in Algorithm 1. */
  readonly resX: number;
  readonly resY: number;
  /** Rotation of the noise field in radians. */
  readonly angle: number;
}

function fade(t: number): number {
  return t * t * t * (t * (t * 6 - 15) + 10);
}

/**
 * Seeded 2-D gradient (Perlin) noise in about [−1, 1] with resX × resY cells
 * across the image, rotated by `angle`. The gradient lattice covers the whole
 * rotated sampling area (the image's circumscribed circle), so rotation never
 * runs off it or wraps it.
 */
export function computePerlinNoise(rng: Rng, options: PerlinOptions): Float32Array {
  const { width, height, resX, resY, angle } = options;
  const cx = width / 2;
  const cy = height / 2;
  const sx = resX / width;
  const sy = resY / height;
  const radius = Math.hypot(width, height) / 2;
  const u0 = Math.floor((cx - radius) * sx) - 1;
  const v0 = Math.floor((cy - radius) * sy) - 1;
  const cols = Math.ceil((cx + radius) * sx) - u0 + 2;
  const rows = Math.ceil((cy + radius) * sy) - v0 + 2;
  const gx = new Float32Array(cols * rows);
  const gy = new Float32Array(cols * rows);
  for (let i = 0; i < cols * rows; i++) {
    const a = rng.next() * 2 * Math.PI;
    gx[i] = Math.cos(a);
    gy[i] = Math.sin(a);
  }
  const out = new Float32Array(width * height);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (cos * (x - cx) - sin * (y - cy) + cx) * sx;
      const v = (sin * (x - cx) + cos * (y - cy) + cy) * sy;
      const iu = Math.floor(u);
      const iv = Math.floor(v);
      const fx = u - iu;
      const fy = v - iv;
      const g00 = (iv - v0) * cols + (iu - u0);
      const g10 = g00 + 1;
      const g01 = g00 + cols;
      const g11 = g01 + 1;
      const n00 = gx[g00]! * fx + gy[g00]! * fy;
      const n10 = gx[g10]! * (fx - 1) + gy[g10]! * fy;
      const n01 = gx[g01]! * fx + gy[g01]! * (fy - 1);
      const n11 = gx[g11]! * (fx - 1) + gy[g11]! * (fy - 1);
      const tx = fade(fx);
      const nx0 = n00 + tx * (n10 - n00);
      const nx1 = n01 + tx * (n11 - n01);
      out[y * width + x] = Math.SQRT2 * (nx0 + fade(fy) * (nx1 - nx0));
    }
  }
  return out;
}

/** Draws Algorithm 1's random noise settings: scales 2^k, k ∈ [0, 6) per axis, any rotation. */
export function drawPerlinOptions(rng: Rng, width: number, height: number): PerlinOptions {
  return {
    width,
    height,
    resX: 2 ** rng.int(0, 5),
    resY: 2 ** rng.int(0, 5),
    angle: rng.uniform(-Math.PI / 2, Math.PI / 2),
  };
}

/** Binary mask (1/0) of noise values above `threshold` (0.5 in Algorithm 1). */
export function thresholdNoise(noise: Float32Array, threshold = 0.5): Uint8Array {
  const mask = new Uint8Array(noise.length);
  for (let i = 0; i < noise.length; i++) mask[i] = noise[i]! > threshold ? 1 : 0;
  return mask;
}
