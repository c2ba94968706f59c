import type { Box, Rng } from '@differad/core';
import type { RawImage } from '../encode/write-image.js';

/** Example product classes: what the pictures look like and which subset they belong to. */
export const EXAMPLE_CLASSES = [
  { name: 'tile', subset: 'texture' },
  { name: 'board', subset: 'object' },
  { name: 'bottle', subset: 'object' },
] as const;
export type ExampleClass = (typeof EXAMPLE_CLASSES)[number]['name'];

export interface ExamplePair {
  readonly reference: RawImage;
  readonly target: RawImage;
  /** Tight pixel box of the drawn defect; null for a normal pair. */
  readonly box: Box | null;
}

function baseColor(cls: ExampleClass, x: number, y: number, w: number, h: number, noise: number): [number, number, number] {
  if (cls === 'tile') {
    const check = ((x >> 4) + (y >> 4)) % 2 === 0 ? 170 : 140;
    return [check + noise, check - 10 + noise, check - 30 + noise];
  }
  if (cls === 'board') {
    const trace = x % 24 < 4 || y % 32 < 3;
    return trace ? [200 + noise, 170 + noise, 60 + noise] : [30 + noise, 110 + noise, 50 + noise];
  }
  const dx = (x - w / 2) / (w * 0.32);
  const dy = (y - h / 2) / (h * 0.42);
  const inside = dx * dx + dy * dy <= 1;
  return inside ? [60 + noise, 120 + noise, 90 + noise] : [225 + noise, 225 + noise, 230 + noise];
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/**
 * Draws one reference/target pair of an example product: the same picture
 * twice with independent sensor noise, and, when `anomalous`, an elliptical
 * stain or scratch in the target whose tight box is returned.
 */
export function drawExamplePair(rng: Rng, cls: ExampleClass, width: number, height: number, anomalous: boolean): ExamplePair {
  const reference = new Uint8Array(width * height * 3);
  const target = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = baseColor(cls, x, y, width, height, 0);
      const i = (y * width + x) * 3;
      const n1 = rng.normal() * 3;
      const n2 = rng.normal() * 3;
      reference[i] = clampByte(r + n1);
      reference[i + 1] = clampByte(g + n1);
      reference[i + 2] = clampByte(b + n1);
      target[i] = clampByte(r + n2);
      target[i + 1] = clampByte(g + n2);
      target[i + 2] = clampByte(b + n2);
    }
  }
  let box: Box | null = null;
  if (anomalous) {
    const rx = rng.int(4, Math.max(5, Math.floor(width / 8)));
    const ry = rng.int(4, Math.max(5, Math.floor(height / 8)));
    const cx = rng.int(rx + 2, width - rx - 3);
    const cy = rng.int(ry + 2, height - ry - 3);
    const shade = rng.pick([-90, -60, 70]);
    let x1 = width;
    let y1 = height;
    let x2 = 0;
    let y2 = 0;
    for (let y = cy - ry; y <= cy + ry; y++) {
      for (let x = cx - rx; x <= cx + rx; x++) {
        const dx = (x - cx) / rx;
        const dy = (y - cy) / ry;
        if (dx * dx + dy * dy > 1) continue;
        const i = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) target[i + c] = clampByte((target[i + c] ?? 0) + shade);
        x1 = Math.min(x1, x);
        y1 = Math.min(y1, y);
        x2 = Math.max(x2, x + 1);
        y2 = Math.max(y2, y + 1);
      }
    }
    box = [x1, y1, x2, y2];
  }
  return {
    reference: { data: reference, width, height, channels: 3 },
    target: { data: target, width, height, channels: 3 },
    box,
  };
}
