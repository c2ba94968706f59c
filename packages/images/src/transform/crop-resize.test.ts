import { join } from 'node:path';
import { isDifferadError } from '@differad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../decode/decode-image.js';
import { writeRawImage } from '../encode/write-image.js';
import { createNoiseImage, createTempDir } from '../test-support/image-fixtures.js';
import { cropImageFile, cropRawImage, padRawImage, resizeImageFile, resizeRawImage } from './crop-resize.js';

let dir = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, remove } = await createTempDir()));
afterAll(() => remove());

describe('crop', () => {
  const source = createNoiseImage(80, 60, 3, 'crop');

  it('writes exactly the window [x1, y1, x2, y2) of a file', async () => {
    const input = join(dir, 'source.png');
    const output = join(dir, 'out', 'window.png');
    await writeRawImage(input, source);
    await cropImageFile(input, [10, 20, 50, 45], output);
    const cut = await decodeImage(output);
    expect([cut.width, cut.height]).toEqual([40, 25]);
    expect(cut.data).toEqual(cropRawImage(source, [10, 20, 50, 45]).data);
    expect(cropRawImage(source, [10, 20, 50, 45]).data.subarray(0, 3)).toEqual(
      source.data.subarray((20 * 80 + 10) * 3, (20 * 80 + 10) * 3 + 3),
    );
  });

  it('keeps grey masks grey and 16-bit depth in PNG', async () => {
    const mask = join(dir, 'mask.png');
    await writeRawImage(mask, createNoiseImage(32, 32, 1, 'mask'));
    await cropImageFile(mask, [0, 0, 16, 8], join(dir, 'mask-cut.png'));
    expect((await decodeImage(join(dir, 'mask-cut.png'))).channels).toBe(1);
    const deep = new Uint16Array(10 * 10 * 3).map((_, i) => i * 211);
    await writeRawImage(join(dir, 'deep.png'), { data: deep, width: 10, height: 10, channels: 3 });
    await cropImageFile(join(dir, 'deep.png'), [2, 2, 6, 6], join(dir, 'deep-cut.png'));
    expect((await decodeImage(join(dir, 'deep-cut.png'))).sourceBitDepth).toBe(16);
  });

  it('refuses a window outside the image, naming the file', async () => {
    const input = join(dir, 'bounds.png');
    await writeRawImage(input, source);
    const error = await cropImageFile(input, [70, 0, 90, 10], join(dir, 'never.png')).catch((e: unknown) => e);
    expect(isDifferadError(error, 'IMAGE_CROP_OUT_OF_BOUNDS')).toBe(true);
    expect((error as Error).message).toContain(input);
    expect(() => cropRawImage(source, [5, 5, 5, 10])).toThrow(/positive area/);
  });
});

describe('resize', () => {
  it('resizes a file and raw pixels to the size asked for', async () => {
    const input = join(dir, 'resize.jpg');
    await writeRawImage(input, createNoiseImage(90, 70, 3, 'resize'));
    await resizeImageFile(input, { width: 45, height: 21 }, join(dir, 'resized.png'));
    const out = await decodeImage(join(dir, 'resized.png'));
    expect([out.width, out.height, out.channels]).toEqual([45, 21, 3]);
    const raw = await resizeRawImage(createNoiseImage(30, 30, 1, 'g'), { width: 12, height: 7 });
    expect([raw.width, raw.height, raw.channels, raw.data.length]).toEqual([12, 7, 1, 84]);
  });
});

describe('pad', () => {
  it('repeats the outermost rows and columns outward (edge) or adds black (zero), keeping the image', async () => {
    const image = createNoiseImage(6, 4, 3, 'pad');
    const padded = await padRawImage(image, { top: 2, right: 1, bottom: 3, left: 4 }, 'edge');
    expect([padded.width, padded.height, padded.channels]).toEqual([11, 9, 3]);
    expect(cropRawImage(padded, [4, 2, 10, 6]).data).toEqual(image.data);
    const at = (img: typeof image, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];
    expect(at(padded, 0, 0)).toEqual(at(image, 0, 0));
    expect(at(padded, 10, 8)).toEqual(at(image, 5, 3));
    expect(at(padded, 2, 4)).toEqual(at(image, 0, 2));
    expect(at(padded, 7, 7)).toEqual(at(image, 3, 3));
    const mask = await padRawImage(
      { data: new Uint8Array(6 * 4).fill(255), width: 6, height: 4, channels: 1 },
      { top: 1, right: 0, bottom: 0, left: 2 },
      'zero',
    );
    expect([mask.width, mask.height, mask.channels]).toEqual([8, 5, 1]);
    expect(mask.data.reduce((a, v) => a + (v === 255 ? 1 : 0), 0)).toBe(24);
    expect(mask.data[0]).toBe(0);
  });
});
