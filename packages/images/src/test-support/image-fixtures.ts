import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@differad/core';
import type { RawImage } from '../encode/write-image.js';

/** A fresh folder under the OS temp dir and a function that removes it (for afterAll). */
export async function createTempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'differad-images-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A smooth colour gradient with seeded noise: compresses like a photo, differs per seed. */
export function createNoiseImage(width: number, height: number, channels: 1 | 3 | 4, seed: number | string, noise = 12): RawImage {
  const rng = createRng(seed);
  const phase = rng.uniform(0, Math.PI * 2);
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = 128 + 80 * Math.sin(phase + x / 17) * Math.cos(y / 23);
      for (let c = 0; c < channels; c++) {
        const v = c === 3 ? 200 : base + c * 20 + rng.normal() * noise;
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { data, width, height, channels };
}

/** A solid image of one colour. */
export function createSolidImage(width: number, height: number, rgb: readonly [number, number, number]): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, width, height, channels: 3 };
}

/** The RGB sample at (x, y) of an 8-bit image. */
export function pixelAt(image: RawImage, x: number, y: number): number[] {
  const i = (y * image.width + x) * image.channels;
  return [...image.data.subarray(i, i + image.channels)];
}
