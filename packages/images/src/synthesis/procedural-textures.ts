import type { Rng } from '@differad/core';
import { computePerlinNoise } from './perlin.js';
import { clampByte, type RgbImage } from './rgb.js';

/** Built-in textures, used when no texture folder is given. */
export const PROCEDURAL_TEXTURES = ['noise', 'stripes', 'cracks', 'spots'] as const;
export type ProceduralTexture = (typeof PROCEDURAL_TEXTURES)[number];

function randomColor(rng: Rng): [number, number, number] {
  return [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
}

function fill(width: number, height: number, color: readonly number[]): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = color[i % 3]!;
  return data;
}

function noiseTexture(rng: Rng, width: number, height: number): Uint8Array {
  const a = randomColor(rng);
  const b = randomColor(rng);
  const res = 2 ** rng.int(2, 5);
  const coarse = computePerlinNoise(rng, { width, height, resX: res, resY: res, angle: 0 });
  const fine = computePerlinNoise(rng, { width, height, resX: res * 4, resY: res * 4, angle: 0 });
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = Math.min(1, Math.max(0, 0.5 + 0.5 * (0.7 * coarse[i]! + 0.3 * fine[i]!)));
    for (let k = 0; k < 3; k++) data[3 * i + k] = clampByte(a[k]! + t * (b[k]! - a[k]!));
  }
  return data;
}

function stripesTexture(rng: Rng, width: number, height: number): Uint8Array {
  const a = randomColor(rng);
  const b = randomColor(rng);
  const angle = rng.uniform(0, Math.PI);
  const period = rng.uniform(4, 32);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = 0.5 + 0.5 * Math.sin(((x * cos + y * sin) * 2 * Math.PI) / period);
      for (let k = 0; k < 3; k++) data[3 * (y * width + x) + k] = clampByte(a[k]! + t * (b[k]! - a[k]!));
    }
  }
  return data;
}

function cracksTexture(rng: Rng, width: number, height: number): Uint8Array {
  const base = randomColor(rng);
  const dark = base.map((v) => v * 0.25);
  const data = fill(width, height, base);
  const walks = rng.int(6, 14);
  for (let w = 0; w < walks; w++) {
    let x = rng.uniform(0, width);
    let y = rng.uniform(0, height);
    let heading = rng.uniform(0, 2 * Math.PI);
    const steps = rng.int(width / 2, width * 2);
    for (let s = 0; s < steps; s++) {
      heading += rng.normal() * 0.3;
      x = (x + Math.cos(heading) + width) % width;
      y = (y + Math.sin(heading) + height) % height;
      const i = 3 * (Math.floor(y) * width + Math.floor(x));
      for (let k = 0; k < 3; k++) data[i + k] = clampByte(dark[k]!);
    }
  }
  return data;
}

function spotsTexture(rng: Rng, width: number, height: number): Uint8Array {
  const data = fill(width, height, randomColor(rng));
  const spots = rng.int(10, 40);
  for (let s = 0; s < spots; s++) {
    const color = randomColor(rng);
    const r = rng.uniform(2, Math.max(3, width / 10));
    const cx = rng.uniform(0, width);
    const cy = rng.uniform(0, height);
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(height, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(width, Math.ceil(cx + r)); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
        for (let k = 0; k < 3; k++) data[3 * (y * width + x) + k] = color[k]!;
      }
    }
  }
  return data;
}

const MAKERS: Record<ProceduralTexture, (rng: Rng, w: number, h: number) => Uint8Array> = {
  noise: noiseTexture,
  stripes: stripesTexture,
  cracks: cracksTexture,
  spots: spotsTexture,
};

/** Draws one built-in texture of the given kind, or of a random kind. */
export function createProceduralTexture(rng: Rng, width: number, height: number, kind?: ProceduralTexture): RgbImage {
  const chosen = kind ?? rng.pick(PROCEDURAL_TEXTURES);
  return { data: MAKERS[chosen](rng, width, height), width, height };
}
