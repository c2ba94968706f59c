import { join } from 'node:path';
import { createRng } from '@differad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRawImage, type RawImage } from '../encode/write-image.js';
import { drawExamplePair, EXAMPLE_CLASSES } from '../example/draw-example-pair.js';
import { createNoiseImage, createTempDir } from '../test-support/image-fixtures.js';
import { computeDescriptorSimilarity, computeImageDescriptor, describeImage, toImageDescriptor } from './image-descriptor.js';
import { computeDescriptors, computeFolderDescriptors, findMostSimilar } from './similarity-search.js';

let dir = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, remove } = await createTempDir()));
afterAll(() => remove());

function withNoise(image: RawImage, sigma: number, seed: string): RawImage {
  const rng = createRng(seed);
  const data = image.data.map((v) => Math.max(0, Math.min(255, Math.round(v + rng.normal() * sigma))));
  return { ...image, data };
}

/** Distinct pictures: the three example products at several seeds plus smooth noise fields. */
function distinctImages(): RawImage[] {
  const images: RawImage[] = [];
  for (let seed = 0; seed < 3; seed++) {
    for (const cls of EXAMPLE_CLASSES)
      images.push(drawExamplePair(createRng(`${cls.name}-${seed}`), cls.name, 96 + seed * 16, 96, seed > 0).target);
  }
  for (let i = 0; i < 4; i++) images.push(createNoiseImage(96, 80, 3, `field-${i}`, 4));
  return images;
}

describe('image descriptor', () => {
  it('finds a slightly noisy copy of an image as the most similar among distinct images', async () => {
    const images = distinctImages();
    const entries = await Promise.all(
      images.map(async (image, i) => ({ id: `img-${i}`, descriptor: await computeImageDescriptor(image) })),
    );
    for (const [i, image] of images.entries()) {
      const query = await computeImageDescriptor(withNoise(image, 6, `noise-${i}`));
      const [best] = findMostSimilar(query, entries, 1);
      expect(best?.id, `query ${i}`).toBe(`img-${i}`);
    }
  });

  it('scores an image 1 against itself and ignores brightness and contrast in the thumbnail part', () => {
    const grey = createNoiseImage(64, 64, 1, 'grey').data;
    const d = toImageDescriptor(grey);
    expect(computeDescriptorSimilarity(d, d)).toBeCloseTo(1, 5);
    const brighter = toImageDescriptor(grey.map((v) => Math.min(255, Math.round(v * 0.5 + 40))));
    expect(computeDescriptorSimilarity(d, brighter, { thumbnail: 1, gradients: 0 })).toBeGreaterThan(0.99);
    const flat = toImageDescriptor(new Uint8Array(64 * 64).fill(9));
    expect(Number.isFinite(computeDescriptorSimilarity(d, flat))).toBe(true);
  });

  it('is deterministic and the same from a file as from its pixels', async () => {
    const image = createNoiseImage(120, 100, 3, 'file');
    const path = join(dir, 'same.png');
    await writeRawImage(path, image);
    const a = await computeImageDescriptor(path);
    const b = await computeImageDescriptor(image);
    expect(a.thumbnail).toEqual(b.thumbnail);
    expect(a.gradients).toEqual((await computeImageDescriptor(path)).gradients);
    const described = await describeImage(path);
    expect(described.size).toEqual({ width: 120, height: 100 });
    expect(described.descriptor.thumbnail).toEqual(a.thumbnail);
  });
});

describe('findMostSimilar', () => {
  it('returns the top k best first, ties to the earlier entry', () => {
    const base = toImageDescriptor(createNoiseImage(64, 64, 1, 'base').data);
    const far = toImageDescriptor(createNoiseImage(64, 64, 1, 'far', 80).data);
    const near = toImageDescriptor(
      withNoise({ data: createNoiseImage(64, 64, 1, 'base').data, width: 64, height: 64, channels: 1 }, 10, 'n').data,
    );
    const entries = [
      { id: 'far', descriptor: far },
      { id: 'same-a', descriptor: base },
      { id: 'near', descriptor: near },
      { id: 'same-b', descriptor: base },
    ];
    expect(findMostSimilar(base, entries, 3).map((m) => m.id)).toEqual(['same-a', 'same-b', 'near']);
    const all = findMostSimilar(base, entries, 10);
    expect(all.map((m) => m.index)).toEqual([1, 3, 2, 0]);
    expect(all.every((m, i) => i === 0 || (all[i - 1]?.score ?? 0) >= m.score)).toBe(true);
    expect(findMostSimilar(base, entries, 0)).toEqual([]);
  });
});

describe('folder descriptors', () => {
  it('describes every image of a folder tree, sorted by path, with bounded concurrency', async () => {
    const folder = join(dir, 'train');
    const names = ['b.png', 'a.jpg', 'sub/c.webp'];
    for (const [i, name] of names.entries()) await writeRawImage(join(folder, name), createNoiseImage(40, 40, 3, `f${i}`));
    await writeRawImage(join(folder, 'notes.png.bak'), createNoiseImage(4, 4, 3, 'x'));
    const entries = await computeFolderDescriptors(folder, { concurrency: 2 });
    expect(entries.map((e) => e.id)).toEqual([join(folder, 'a.jpg'), join(folder, 'b.png'), join(folder, 'sub/c.webp')]);
    const again = await computeDescriptors([join(folder, 'b.png')]);
    expect(again[0]?.descriptor.thumbnail).toEqual(entries[1]?.descriptor.thumbnail);
    await expect(computeFolderDescriptors(join(dir, 'missing'))).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });
});
