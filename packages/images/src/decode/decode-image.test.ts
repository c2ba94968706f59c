import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { type ErrorCode, isDifferadError } from '@differad/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRawImage, writeRawImage } from '../encode/write-image.js';
import { createNoiseImage, createTempDir, pixelAt } from '../test-support/image-fixtures.js';
import { decodeImage, readImageInfo, readImageSize } from './decode-image.js';

let dir = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, remove } = await createTempDir()));
afterAll(() => remove());

async function expectImageError(promise: Promise<unknown>, code: ErrorCode, name: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDifferadError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as Error).message).toContain(name);
}

describe('decodeImage: formats and layouts', () => {
  const rgb = createNoiseImage(48, 32, 3, 'rgb');

  it.each([
    ['png', true],
    ['tiff', true],
    ['webp', false],
    ['jpg', false],
  ])('decodes %s as 8-bit RGB with the right size', async (ext, lossless) => {
    const path = join(dir, `rgb.${ext}`);
    await writeRawImage(path, rgb, { quality: 95 });
    const image = await decodeImage(path);
    expect([image.width, image.height, image.channels, image.sourceBitDepth]).toEqual([48, 32, 3, 8]);
    expect(image.format).toBe(ext === 'jpg' ? 'jpeg' : ext === 'tif' ? 'tiff' : ext);
    if (lossless) expect(image.data).toEqual(rgb.data);
    else expect(Math.abs((image.data[100] ?? 0) - (rgb.data[100] ?? 0))).toBeLessThan(40);
  });

  it('keeps grey as one channel and turns alpha images into RGBA', async () => {
    const grey = createNoiseImage(20, 10, 1, 'grey');
    await writeRawImage(join(dir, 'grey.png'), grey);
    await writeRawImage(join(dir, 'grey.jpg'), grey);
    await writeRawImage(join(dir, 'rgba.png'), createNoiseImage(20, 10, 4, 'rgba'));
    const greyAlpha = await sharp(Buffer.alloc(20 * 10 * 2, 90), { raw: { width: 20, height: 10, channels: 2 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const g = await decodeImage(join(dir, 'grey.png'));
    expect(g.channels).toBe(1);
    expect(g.data).toEqual(grey.data);
    expect((await decodeImage(join(dir, 'grey.jpg'))).channels).toBe(1);
    expect((await decodeImage(join(dir, 'rgba.png'))).channels).toBe(4);
    const ga = await decodeImage(greyAlpha);
    expect([ga.channels, ga.sourceChannels]).toEqual([4, 2]);
  });

  it('converts to the channel count asked for', async () => {
    const path = join(dir, 'convert.png');
    await writeRawImage(path, createNoiseImage(16, 16, 4, 'convert'));
    for (const channels of [1, 3, 4] as const) {
      const image = await decodeImage(path, { channels });
      expect(image.channels).toBe(channels);
      expect(image.data.length).toBe(16 * 16 * channels);
    }
  });

  it('reads 16-bit PNG and TIFF exactly at depth 16 and scaled at depth 8', async () => {
    const deep = new Uint16Array(8 * 4 * 3);
    for (let i = 0; i < deep.length; i++) deep[i] = (i * 2027) % 65536;
    for (const ext of ['png', 'tif']) {
      const path = join(dir, `deep.${ext}`);
      await writeRawImage(path, { data: deep, width: 8, height: 4, channels: 3 });
      expect((await readImageInfo(path)).bitDepth).toBe(16);
      const wide = await decodeImage(path, { depth: 16 });
      expect(wide.data).toBeInstanceOf(Uint16Array);
      expect(wide.data).toEqual(deep);
      const narrow = await decodeImage(path);
      expect(narrow.sourceBitDepth).toBe(16);
      expect(narrow.data[5]).toBe((deep[5] ?? 0) >> 8);
    }
    const greyDeep = new Uint16Array(6 * 5).map((_, i) => i * 2000);
    await writeRawImage(join(dir, 'grey16.png'), { data: greyDeep, width: 6, height: 5, channels: 1 });
    const g = await decodeImage(join(dir, 'grey16.png'), { depth: 16 });
    expect([g.channels, g.sourceBitDepth]).toEqual([1, 16]);
    expect(g.data).toEqual(greyDeep);
  });

  it('accepts in-memory buffers', async () => {
    const bytes = await encodeRawImage(createNoiseImage(10, 7, 3, 'buf'), 'png');
    const image = await decodeImage(bytes);
    expect([image.width, image.height]).toEqual([10, 7]);
    expect(await readImageSize(new Uint8Array(bytes))).toEqual({ width: 10, height: 7 });
  });
});

describe('decodeImage: EXIF orientation', () => {
  it('applies orientation 6 (rotate 90° clockwise): width and height swap, left becomes top', async () => {
    const stored = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) stored.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    const path = join(dir, 'rotated.jpg');
    await sharp(stored, { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(path);
    expect(await readImageSize(path)).toEqual({ width: 20, height: 40 });
    expect((await readImageInfo(path)).orientation).toBe(6);
    const image = await decodeImage(path);
    expect([image.width, image.height]).toEqual([20, 40]);
    const [rTop, , bTop] = pixelAt(image, 10, 5) as [number, number, number];
    const [rBottom, , bBottom] = pixelAt(image, 10, 35) as [number, number, number];
    expect(rTop).toBeGreaterThan(200);
    expect(bTop).toBeLessThan(60);
    expect(bBottom).toBeGreaterThan(200);
    expect(rBottom).toBeLessThan(60);
  });
});

describe('decodeImage: failures name the file', () => {
  it('missing file → IMAGE_NOT_FOUND', async () => {
    const path = join(dir, 'nope.png');
    await expectImageError(decodeImage(path), 'IMAGE_NOT_FOUND', path);
    await expectImageError(readImageSize(path), 'IMAGE_NOT_FOUND', path);
  });

  it('random bytes → IMAGE_DECODE_FAILED', async () => {
    const path = join(dir, 'random.png');
    await writeFile(path, Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 256)));
    await expectImageError(decodeImage(path), 'IMAGE_DECODE_FAILED', path);
  });

  it.each(['jpg', 'png'])('a %s cut in half → IMAGE_DECODE_FAILED', async (ext) => {
    const whole = await encodeRawImage(createNoiseImage(160, 120, 3, `cut-${ext}`, 40), ext === 'jpg' ? 'jpeg' : 'png');
    const path = join(dir, `truncated.${ext}`);
    await writeFile(path, whole.subarray(0, whole.length >> 1));
    await expectImageError(decodeImage(path), 'IMAGE_DECODE_FAILED', path);
  });

  it('an image over the pixel limit → IMAGE_TOO_LARGE, before decoding', async () => {
    const path = join(dir, 'big.png');
    await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } })
      .png()
      .toFile(path);
    await expectImageError(decodeImage(path, { maxInputPixels: 1_000_000 }), 'IMAGE_TOO_LARGE', path);
    expect((await decodeImage(path, { maxInputPixels: 1_200_000 })).width).toBe(1200);
  });

  it('a decompression bomb (header claims 60000×60000) → IMAGE_TOO_LARGE under the default limit', async () => {
    const png = Buffer.from(
      await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
        .png()
        .toBuffer(),
    );
    // IHDR starts at byte 8: length(4) 'IHDR'(4) width(4) height(4) …, CRC over type+data at 29.
    png.writeUInt32BE(60_000, 16);
    png.writeUInt32BE(60_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    const path = join(dir, 'bomb.png');
    await writeFile(path, png);
    await expectImageError(decodeImage(path), 'IMAGE_TOO_LARGE', path);
    await expectImageError(readImageSize(path), 'IMAGE_TOO_LARGE', path);
  });

  it('GIF, BMP and SVG → IMAGE_UNSUPPORTED_FORMAT; a format can also be refused by option', async () => {
    const gif = join(dir, 'anim.gif');
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } })
      .gif()
      .toFile(gif);
    await expectImageError(decodeImage(gif), 'IMAGE_UNSUPPORTED_FORMAT', gif);
    const bmp = join(dir, 'old.bmp');
    await writeFile(bmp, Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]));
    await expectImageError(decodeImage(bmp), 'IMAGE_UNSUPPORTED_FORMAT', bmp);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
    await expectImageError(decodeImage(svg, { name: 'upload.png' }), 'IMAGE_UNSUPPORTED_FORMAT', 'upload.png');
    const webp = join(dir, 'only.webp');
    await writeRawImage(webp, createNoiseImage(8, 8, 3, 'webp'));
    await expectImageError(decodeImage(webp, { formats: ['png', 'jpeg'] }), 'IMAGE_UNSUPPORTED_FORMAT', webp);
  });
});
