import { join } from 'node:path';
import { isDifferadError } from '@differad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRawImage } from '../encode/write-image.js';
import { createNoiseImage, createTempDir } from '../test-support/image-fixtures.js';
import { computeMaskBox } from './connected-components.js';
import { loadMask } from './load-mask.js';

let dir = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, remove } = await createTempDir()));
afterAll(() => remove());

function squareMask(width: number, height: number, box: readonly [number, number, number, number], value = 255) {
  const data = new Uint8Array(width * height);
  for (let y = box[1]; y < box[3]; y++) data.fill(value, y * width + box[0], y * width + box[2]);
  return { data, width, height, channels: 1 as const };
}

describe('loadMask', () => {
  it('decodes a 0/255 mask to binary and gives its box', async () => {
    const image = join(dir, 'image.png');
    const mask = join(dir, 'mask.png');
    await writeRawImage(image, createNoiseImage(64, 48, 3, 'img'));
    await writeRawImage(mask, squareMask(64, 48, [10, 5, 30, 20]));
    const binary = await loadMask(mask, image);
    expect(computeMaskBox(binary)).toEqual([10, 5, 30, 20]);
    expect(computeMaskBox(await loadMask(mask, { width: 64, height: 48 }))).toEqual([10, 5, 30, 20]);
  });

  it('reads 0/1 masks with threshold 1', async () => {
    const mask = join(dir, 'mask01.png');
    await writeRawImage(mask, squareMask(16, 16, [2, 3, 5, 9], 1));
    expect(computeMaskBox(await loadMask(mask, { width: 16, height: 16 }))).toBeNull();
    expect(computeMaskBox(await loadMask(mask, { width: 16, height: 16 }, { threshold: 1 }))).toEqual([2, 3, 5, 9]);
  });

  it('names both files when the mask does not have the size of its image', async () => {
    const image = join(dir, 'big-image.png');
    const mask = join(dir, 'small-mask.png');
    await writeRawImage(image, createNoiseImage(64, 48, 3, 'img'));
    await writeRawImage(mask, squareMask(32, 24, [1, 1, 4, 4]));
    const error = await loadMask(mask, image).catch((e: unknown) => e);
    expect(isDifferadError(error, 'IMAGE_MASK_SIZE_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain(mask);
    expect((error as Error).message).toContain(image);
    expect((error as Error).message).toContain('32×24');
  });
});
