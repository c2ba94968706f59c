import { createRng } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { computeForegroundBox } from '../masks/connected-components.js';
import { drawAugmentations, AUGMENTATIONS, applyAugmentation } from './augment.js';
import { computePerlinNoise, thresholdNoise } from './perlin.js';
import { createProceduralTexture, PROCEDURAL_TEXTURES } from './procedural-textures.js';
import type { RgbImage } from './rgb.js';
import { blendAnomaly, computeOtsuForeground, DEFAULT_SYNTHESIS_OPTIONS, synthesizePair } from './synthesize-pair.js';

function solid(width: number, height: number, rgb: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rgb[i % 3]!;
  return { data, width, height };
}

/** A dark disc (the object) on a bright background. */
function objectImage(size: number): RgbImage {
  const img = solid(size, size, [230, 230, 230]);
  const r = size * 0.35;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if ((x - size / 2) ** 2 + (y - size / 2) ** 2 <= r * r) img.data.set([60, 110, 80], (y * size + x) * 3);
    }
  }
  return img;
}

const noJitter = { ...DEFAULT_SYNTHESIS_OPTIONS, pNormal: 0, brightnessJitter: 0, maxRotationDeg: 0 };

describe('blendAnomaly', () => {
  it('applies tgt = ref·(1−M) + ((1−β)·tex + β·ref)·M at known pixels', () => {
    const ref = solid(4, 1, [100, 50, 200]);
    const tex = solid(4, 1, [0, 250, 40]);
    const mask = new Uint8Array([0, 1, 1, 0]);
    const out = blendAnomaly(ref, tex, mask, 0.25);
    expect([...out.data.subarray(0, 3)]).toEqual([100, 50, 200]);
    // (1−0.25)·tex + 0.25·ref
    expect([...out.data.subarray(3, 6)]).toEqual([25, 200, 80]);
    expect([...out.data.subarray(6, 9)]).toEqual([25, 200, 80]);
    expect([...out.data.subarray(9, 12)]).toEqual([100, 50, 200]);
  });
});

describe('synthesizePair', () => {
  const size = 96;
  const reference = objectImage(size);
  const foreground = computeOtsuForeground(reference);
  const texture = (r: readonly number[]) => solid(r[2]! - r[0]!, r[3]! - r[1]!, [255, 0, 255]);

  it('finds the object, not the background, as the Otsu foreground', () => {
    expect(foreground.data[(size / 2) * size + size / 2]).toBe(1);
    expect(foreground.data[0]).toBe(0);
  });

  it('gives a box equal to the tight box of the final mask, with at least 64 px of anomaly', () => {
    for (let seed = 0; seed < 40; seed++) {
      const pair = synthesizePair(createRng(seed), { reference, foreground, texture }, { ...DEFAULT_SYNTHESIS_OPTIONS, pNormal: 0 });
      expect(pair.box).not.toBeNull();
      expect(pair.box).toEqual(computeForegroundBox(pair.mask));
      expect(pair.mask.data.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(40);
      expect(pair.beta).toBeGreaterThanOrEqual(0);
      expect(pair.beta).toBeLessThan(0.8);
      expect(new Set(pair.augmentations).size).toBe(3);
    }
  });

  it('keeps the anomaly inside the foreground and changes the target only there', () => {
    for (let seed = 0; seed < 30; seed++) {
      const pair = synthesizePair(createRng(seed), { reference, foreground, texture }, noJitter);
      let area = 0;
      let outsideForeground = 0;
      let changedOutsideMask = 0;
      for (let i = 0; i < pair.mask.data.length; i++) {
        if (pair.mask.data[i]) {
          area++;
          if (!foreground.data[i]) outsideForeground++;
        } else {
          for (let k = 3 * i; k < 3 * i + 3; k++) if (pair.target.data[k] !== reference.data[k]) changedOutsideMask++;
        }
      }
      expect(area).toBeGreaterThanOrEqual(64);
      expect(outsideForeground).toBe(0);
      expect(changedOutsideMask).toBe(0);
    }
  });

  it('makes normal pairs at the p-normal rate, within a binomial bound', () => {
    const n = 400;
    const p = 0.25;
    let normals = 0;
    for (let seed = 0; seed < n; seed++) {
      const pair = synthesizePair(
        createRng(`share-${seed}`),
        { reference, foreground: null, texture },
        { ...DEFAULT_SYNTHESIS_OPTIONS, pNormal: p },
      );
      if (pair.box === null) {
        normals++;
        expect(pair.mask.data.every((v) => v === 0)).toBe(true);
      }
    }
    const sd = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(normals - n * p)).toBeLessThan(4 * sd);
  });

  it('is reproducible: the same seed gives the same bytes', () => {
    const a = synthesizePair(createRng('x'), { reference, foreground, texture }, DEFAULT_SYNTHESIS_OPTIONS);
    const b = synthesizePair(createRng('x'), { reference, foreground, texture }, DEFAULT_SYNTHESIS_OPTIONS);
    const c = synthesizePair(createRng('y'), { reference, foreground, texture }, DEFAULT_SYNTHESIS_OPTIONS);
    expect(Buffer.from(a.target.data).equals(Buffer.from(b.target.data))).toBe(true);
    expect(a.box).toEqual(b.box);
    expect(Buffer.from(a.target.data).equals(Buffer.from(c.target.data))).toBe(false);
  });
});

describe('noise, textures and augmentations', () => {
  it('draws Perlin noise in [−1, 1] whose 0.5 threshold leaves blobs, not the whole image', () => {
    const noise = computePerlinNoise(createRng(1), { width: 128, height: 128, resX: 4, resY: 2, angle: 0.7 });
    expect(Math.max(...noise)).toBeLessThanOrEqual(1.0001);
    expect(Math.min(...noise)).toBeGreaterThanOrEqual(-1.0001);
    const share = thresholdNoise(noise).reduce((a, b) => a + b, 0) / noise.length;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(0.5);
  });

  it('draws three distinct augmentations and every one keeps the image size', () => {
    const rng = createRng(5);
    expect(new Set(drawAugmentations(rng, 3)).size).toBe(3);
    const tex = createProceduralTexture(rng, 32, 24, 'stripes');
    for (const name of AUGMENTATIONS) {
      const out = applyAugmentation(rng, tex, name);
      expect(out.data.length).toBe(tex.data.length);
    }
    const inverted = applyAugmentation(rng, solid(2, 2, [10, 20, 30]), 'invert');
    expect([...inverted.data.subarray(0, 3)]).toEqual([245, 235, 225]);
  });

  it('makes every built-in texture with some variation', () => {
    for (const kind of PROCEDURAL_TEXTURES) {
      const t = createProceduralTexture(createRng(kind), 64, 64, kind);
      expect(new Set(t.data).size).toBeGreaterThan(1);
    }
  });
});
