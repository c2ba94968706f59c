import type { Rng } from '@differad/core';
import { applyLut, clampByte, createLut, type RgbImage, rotateRgb } from './rgb.js';

/** Texture augmentations of Algorithm 1; three distinct ones are applied per anomaly. */
export const AUGMENTATIONS = ['gamma', 'brightness', 'hue-saturation', 'sharpness', 'solarize', 'posterize', 'invert', 'rotation'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

function gamma(rng: Rng, image: RgbImage): RgbImage {
  const g = rng.uniform(0.5, 2);
  return applyLut(
    image,
    createLut((v) => 255 * (v / 255) ** g),
  );
}

function brightness(rng: Rng, image: RgbImage): RgbImage {
  const gain = rng.uniform(0.8, 1.2);
  const offset = rng.uniform(-30, 30);
  return applyLut(
    image,
    createLut((v) => v * gain + offset),
  );
}

function solarize(rng: Rng, image: RgbImage): RgbImage {
  const threshold = rng.int(32, 160);
  return applyLut(
    image,
    createLut((v) => (v >= threshold ? 255 - v : v)),
  );
}

function posterize(rng: Rng, image: RgbImage): RgbImage {
  const bits = rng.int(4, 7);
  const keep = (0xff << (8 - bits)) & 0xff;
  return applyLut(
    image,
    createLut((v) => v & keep),
  );
}

function invert(_rng: Rng, image: RgbImage): RgbImage {
  return applyLut(
    image,
    createLut((v) => 255 - v),
  );
}

/** Shifts hue by up to ±50° and scales saturation by 0.5–1.5 (HSV, per pixel). */
function hueSaturation(rng: Rng, image: RgbImage): RgbImage {
  const shift = rng.uniform(-50, 50) / 360;
  const satGain = rng.uniform(0.5, 1.5);
  const d = image.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i]! / 255;
    const g = d[i + 1]! / 255;
    const b = d[i + 2]! / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const delta = max - min;
    let h = 0;
    if (delta > 0) {
      if (max === r) h = ((g - b) / delta + 6) % 6;
      else if (max === g) h = (b - r) / delta + 2;
      else h = (r - g) / delta + 4;
      h /= 6;
    }
    const s = max === 0 ? 0 : Math.min(1, (delta / max) * satGain);
    h = (h + shift + 1) % 1;
    const c = max * s;
    const hp = h * 6;
    const x = c * (1 - Math.abs((hp % 2) - 1));
    const m = max - c;
    const sector = Math.floor(hp) % 6;
    const [rr, gg, bb] =
      sector === 0
        ? [c, x, 0]
        : sector === 1
          ? [x, c, 0]
          : sector === 2
            ? [0, c, x]
            : sector === 3
              ? [0, x, c]
              : sector === 4
                ? [x, 0, c]
                : [c, 0, x];
    out[i] = clampByte((rr + m) * 255);
    out[i + 1] = clampByte((gg + m) * 255);
    out[i + 2] = clampByte((bb + m) * 255);
  }
  return { data: out, width: image.width, height: image.height };
}

/** Blends the image with its 3×3 box blur: factor > 1 sharpens, < 1 softens. */
function sharpness(rng: Rng, image: RgbImage): RgbImage {
  const factor = rng.uniform(0, 2);
  const { width: w, height: h, data: d } = image;
  const out = new Uint8Array(d.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
            sum += d[(yy * w + xx) * 3 + k]!;
          }
        }
        const v = d[(y * w + x) * 3 + k]!;
        out[(y * w + x) * 3 + k] = clampByte(sum / 9 + factor * (v - sum / 9));
      }
    }
  }
  return { data: out, width: w, height: h };
}

function rotation(rng: Rng, image: RgbImage): RgbImage {
  return rotateRgb(image, rng.uniform(-Math.PI / 2, Math.PI / 2), true);
}

const APPLY: Record<Augmentation, (rng: Rng, image: RgbImage) => RgbImage> = {
  gamma,
  brightness,
  'hue-saturation': hueSaturation,
  sharpness,
  solarize,
  posterize,
  invert,
  rotation,
};

/** Applies one named augmentation with parameters drawn from `rng`. */
export function applyAugmentation(rng: Rng, image: RgbImage, name: Augmentation): RgbImage {
  return APPLY[name](rng, image);
}

/** Draws `count` distinct augmentations in random order (Fisher–Yates on a copy). */
export function drawAugmentations(rng: Rng, count = 3): Augmentation[] {
  const list = [...AUGMENTATIONS];
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list.slice(0, count);
}

/** Algorithm 1's texture augmentation: three distinct augmentations at random. */
export function augmentTexture(rng: Rng, texture: RgbImage): { image: RgbImage; applied: Augmentation[] } {
  const applied = drawAugmentations(rng, 3);
  let image = texture;
  for (const name of applied) image = applyAugmentation(rng, image, name);
  return { image, applied };
}
