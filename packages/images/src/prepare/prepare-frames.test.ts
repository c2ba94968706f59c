import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeResizedSize, DEFAULT_RESIZE } from '@differad/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRawImage, writeRawImage } from '../encode/write-image.js';
import { createNoiseImage, createTempDir } from '../test-support/image-fixtures.js';
import { createByteLruCache } from './byte-lru-cache.js';
import { createFramePreparer } from './prepare-frames.js';

let dir = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => ({ dir, remove } = await createTempDir()));
afterAll(() => remove());

function fromDataUrl(url: string): { mime: string; bytes: Buffer } {
  const match = /^data:(image\/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)$/.exec(url);
  if (match === null) throw new Error(`not a base64 image data URL: ${url.slice(0, 40)}`);
  return { mime: match[1] as string, bytes: Buffer.from(match[2] as string, 'base64') };
}

describe('createFramePreparer: model frames', () => {
  it.each(['png', 'jpeg'] as const)('encodes a %s data URL that decodes to computeResizedSize of the input', async (format) => {
    const path = join(dir, `frame-${format}.jpg`);
    await writeRawImage(path, createNoiseImage(800, 600, 3, 'frame'));
    const prepared = await createFramePreparer({ format }).prepareImage(path);
    const expected = computeResizedSize({ width: 800, height: 600 }, DEFAULT_RESIZE);
    expect({ width: prepared.width, height: prepared.height }).toEqual(expected);
    expect(prepared.original).toEqual({ width: 800, height: 600 });
    const { mime, bytes } = fromDataUrl(prepared.dataUrl);
    expect(mime).toBe(`image/${format}`);
    expect(bytes.length).toBe(prepared.encodedBytes);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual([format, expected.width, expected.height, 3]);
  });

  it('upsizes small images, applies EXIF orientation and honours other resize settings', async () => {
    const small = join(dir, 'small.png');
    await writeRawImage(small, createNoiseImage(30, 20, 1, 'small'));
    const up = await createFramePreparer().prepareImage(small);
    expect({ width: up.width, height: up.height }).toEqual(computeResizedSize({ width: 30, height: 20 }));
    const rotated = join(dir, 'rotated.jpg');
    await sharp(Buffer.from(createNoiseImage(300, 100, 3, 'rot').data), { raw: { width: 300, height: 100, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 8 })
      .toFile(rotated);
    const resize = { factor: 14, minPixels: 1_000, maxPixels: 20_000 };
    const r = await createFramePreparer({ resize }).prepareImage(rotated);
    expect(r.original).toEqual({ width: 100, height: 300 });
    expect({ width: r.width, height: r.height }).toEqual(computeResizedSize({ width: 100, height: 300 }, resize));
  });

  it('flattens alpha and outputs RGB for grey and RGBA inputs', async () => {
    const rgba = await encodeRawImage(createNoiseImage(56, 56, 4, 'alpha'), 'png');
    const prepared = await createFramePreparer().prepareImage(rgba);
    const meta = await sharp(fromDataUrl(prepared.dataUrl).bytes).metadata();
    expect([meta.channels, meta.hasAlpha]).toEqual([3, false]);
  });
});

describe('createFramePreparer: content-hash cache', () => {
  it('serves a second preparation from the cache: identical string, no re-encode', async () => {
    const reference = join(dir, 'pair-ref.jpg');
    const target = join(dir, 'pair-tgt.jpg');
    await writeRawImage(reference, createNoiseImage(400, 400, 3, 'ref'));
    await writeRawImage(target, createNoiseImage(400, 400, 3, 'tgt'));
    const preparer = createFramePreparer();
    const first = await preparer.preparePair(reference, target);
    expect(preparer.stats()).toMatchObject({ hits: 0, misses: 2, entries: 2 });
    const second = await preparer.preparePair(reference, target);
    expect(preparer.stats()).toMatchObject({ hits: 2, misses: 2, entries: 2 });
    expect(second.reference.dataUrl).toBe(first.reference.dataUrl);
    expect(second.target).toBe(first.target);
    expect(first.reference.key).not.toBe(first.target.key);
  });

  it('keys by content, not by path: the same bytes in memory are a hit; other settings are not', async () => {
    const bytes = await encodeRawImage(createNoiseImage(120, 90, 3, 'content'), 'png');
    const path = join(dir, 'content.png');
    await writeRawImage(path, createNoiseImage(120, 90, 3, 'content'));
    const preparer = createFramePreparer();
    const a = await preparer.prepareImage(path);
    const b = await preparer.prepareImage(bytes, 'content-in-memory');
    expect(b).toBe(a);
    expect(preparer.stats().hits).toBe(1);
    const jpeg = await createFramePreparer({ format: 'jpeg' }).prepareImage(bytes);
    expect(jpeg.key).not.toBe(a.key);
  });

  it('prepares a file rewritten in place again, from its new bytes, and serves it unchanged from the cache', async () => {
    const path = join(dir, 'rewritten.png');
    await writeRawImage(path, createNoiseImage(64, 64, 3, 'before'));
    const preparer = createFramePreparer();
    const before = await preparer.prepareImage(path);
    // Same size, other content: only the fingerprint (mtime, ctime) tells them apart without reading.
    await writeRawImage(path, createNoiseImage(64, 64, 3, 'after'));
    const after = await preparer.prepareImage(path);
    expect(after.key).not.toBe(before.key);
    expect(after.dataUrl).toBe((await createFramePreparer().prepareImage(path)).dataUrl);
    expect(await preparer.prepareImage(path)).toBe(after);
    expect(preparer.stats()).toMatchObject({ misses: 2, hits: 1 });
  });

  it('refuses a cached file that is gone, replaced by a folder or grown past the limit, naming it', async () => {
    const path = join(dir, 'then-gone.png');
    await writeRawImage(path, createNoiseImage(32, 32, 3, 'gone'));
    const preparer = createFramePreparer({ limits: { maxInputBytes: 1_000_000 } });
    await preparer.prepareImage(path);
    await rm(path);
    await expect(preparer.prepareImage(path)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', message: `${path}: no such image file` });
    await mkdir(path);
    await expect(preparer.prepareImage(path)).rejects.toMatchObject({ code: 'IMAGE_READ_FAILED', message: `${path}: not a regular file` });
    await rm(path, { recursive: true });
    await writeFile(path, Buffer.alloc(1_000_001));
    await expect(preparer.prepareImage(path)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('shares one encode between concurrent requests for the same image', async () => {
    const path = join(dir, 'concurrent.png');
    await writeRawImage(path, createNoiseImage(200, 200, 3, 'concurrent'));
    const preparer = createFramePreparer();
    const results = await Promise.all([1, 2, 3, 4].map(() => preparer.prepareImage(path)));
    expect(new Set(results).size).toBe(1);
    expect(preparer.stats()).toMatchObject({ misses: 1, hits: 3 });
  });

  it('evicts the least recently used entry when over the byte bound', async () => {
    const paths = ['a', 'b', 'c'].map((n) => join(dir, `evict-${n}.png`));
    for (const [i, p] of paths.entries()) await writeRawImage(p, createNoiseImage(112, 112, 3, `evict-${i}`));
    const probe = await createFramePreparer().prepareImage(paths[0] as string);
    // Room for two entries, not three.
    const preparer = createFramePreparer({ maxCacheBytes: Math.floor((probe.dataUrl.length + 512) * 2.5) });
    await preparer.prepareImage(paths[0] as string);
    await preparer.prepareImage(paths[1] as string);
    await preparer.prepareImage(paths[0] as string); // a is now the most recently used
    await preparer.prepareImage(paths[2] as string); // evicts b
    expect(preparer.stats()).toMatchObject({ entries: 2, evictions: 1, misses: 3, hits: 1 });
    expect(preparer.stats().bytes).toBeLessThanOrEqual(preparer.stats().maxBytes);
    await preparer.prepareImage(paths[0] as string);
    expect(preparer.stats().hits).toBe(2);
    await preparer.prepareImage(paths[1] as string);
    expect(preparer.stats().misses).toBe(4);
  });

  it('does not cache when the bound is 0, and still prepares', async () => {
    const path = join(dir, 'nocache.png');
    await writeRawImage(path, createNoiseImage(60, 60, 3, 'nocache'));
    const preparer = createFramePreparer({ maxCacheBytes: 0 });
    await preparer.prepareImage(path);
    await preparer.prepareImage(path);
    expect(preparer.stats()).toMatchObject({ misses: 2, hits: 0, entries: 0, bytes: 0 });
  });
});

describe('createByteLruCache', () => {
  it('keeps the byte total within the bound and drops values larger than it', () => {
    const cache = createByteLruCache<string>(10);
    cache.set('a', 'a', 4);
    cache.set('b', 'b', 4);
    cache.set('huge', 'huge', 11);
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 8 });
    cache.set('a', 'a2', 7); // replacing a re-counts it: 4 + 7 > 10 evicts b
    expect(cache.get('a')).toBe('a2');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 7, evictions: 1, hits: 1, misses: 1 });
  });
});
