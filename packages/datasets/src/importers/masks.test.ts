import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeImageOps, readFakeImage, writeFakeImage } from '../testing/fake-image-ops.js';
import { importMasks, toMaskPath } from './masks.js';

let dir: string;
let images: string;
let masks: string;
let normals: string;
let out: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-masks-'));
  [images, masks, normals, out] = ['images', 'masks', 'normals', 'out'].map((d) => join(dir, d)) as [string, string, string, string];
  writeFakeImage(join(images, 'screw/a.jpg'), { width: 64, height: 48, tone: 20 });
  writeFakeImage(join(images, 'screw/b.jpg'), { width: 128, height: 96, tone: 80 });
  writeFakeImage(join(images, 'screw/sub/c.jpg'), { width: 64, height: 48, tone: 50 });
  writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 64, height: 48, box: [5, 6, 7, 8] });
  writeFakeImage(join(masks, 'screw/b_mask.png'), { width: 128, height: 96, box: [20, 20, 61, 40] });
  writeFakeImage(join(normals, 'screw/n1.png'), { width: 64, height: 48, tone: 22 });
  writeFakeImage(join(normals, 'screw/n2.png'), { width: 64, height: 48, tone: 78 });
});

const readManifest = () => readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const options = () => ({ images, masks, maskPattern: '{stem}_mask.png', normals, out });

describe('importMasks', () => {
  it('boxes masked images, keeps unmasked ones normal, and brings pairs of different sizes to the smaller size', async () => {
    const result = await importMasks({ ...options(), topK: 1 }, createFakeImageOps());
    expect(result).toMatchObject({ records: 3, anomalous: 2, normal: 1 });
    const byId = Object.fromEntries(readManifest().map((r) => [r.id, r]));
    expect(byId['screw-a']).toMatchObject({
      class: 'screw',
      reference: '../normals/screw/n1.png',
      target: '../images/screw/a.jpg',
      mask: '../masks/screw/a_mask.png',
      box: [5, 6, 7, 8],
      width: 64,
      references_topk: [{ path: '../normals/screw/n1.png', similarity: -2 }],
    });
    expect(byId['screw-sub-c']).toMatchObject({ box: null, class: 'screw' });
    const b = byId['screw-b'];
    expect(b).toMatchObject({
      reference: '../normals/screw/n2.png',
      target: 'images/screw/b-target.png',
      width: 64,
      height: 48,
      box: [10, 10, 31, 20],
      source: { target: '../images/screw/b.jpg', crop: [0, 0, 128, 96] },
    });
    expect(b.mask).toBeUndefined();
    expect(await readFakeImage(join(out, b.target))).toMatchObject({ width: 64, height: 48, tone: 80 });
  });

  it('finds masks beside their images and does not take them for targets', async () => {
    writeFakeImage(join(images, 'screw/a.png'), { width: 64, height: 48, box: [1, 1, 3, 3] });
    const result = await importMasks({ images, normals, out, maskPattern: '{stem}.png' }, createFakeImageOps());
    expect(result.records).toBe(3);
    expect(readManifest().find((r) => r.id === 'screw-a')).toMatchObject({ box: [1, 1, 3, 3], mask: '../images/screw/a.png' });
  });

  it('rejects a mask of another size and an empty mask, naming the mask', async () => {
    writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 60, height: 48, box: [1, 1, 2, 2] });
    await expect(importMasks(options(), createFakeImageOps())).rejects.toMatchObject({ code: 'DATASET_MASK_SIZE_MISMATCH', message: expect.stringContaining('a_mask.png is 60×48') });
    writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 64, height: 48, box: null });
    await expect(importMasks(options(), createFakeImageOps())).rejects.toMatchObject({ code: 'DATASET_MASK_EMPTY' });
    const result = await importMasks({ ...options(), skipBad: true }, createFakeImageOps());
    expect(result.skipped).toEqual([expect.objectContaining({ file: join(images, 'screw/a.jpg'), code: 'DATASET_MASK_EMPTY' })]);
  });

  it('rejects a class without normal images, naming the class folder', async () => {
    writeFakeImage(join(images, 'nut/x.jpg'), { width: 64, height: 48, tone: 1 });
    await expect(importMasks(options(), createFakeImageOps())).rejects.toThrow(`class nut has no normal images: none readable in ${join(normals, 'nut')}`);
    // Normals directly in the folder serve every class.
    writeFakeImage(join(normals, 'shared.png'), { width: 64, height: 48, tone: 2 });
    await expect(importMasks(options(), createFakeImageOps())).resolves.toMatchObject({ records: 4 });
  });

  it('refuses a mask pattern that leaves the mask folder', async () => {
    rmSync(join(masks, 'screw/a_mask.png'));
    writeFakeImage(join(dir, 'a.png'), { width: 64, height: 48, box: [1, 1, 2, 2] });
    await expect(importMasks({ ...options(), maskPattern: '../../{stem}.png' }, createFakeImageOps())).rejects.toMatchObject({ code: 'DATASET_PATH_ESCAPES_ROOT' });
  });

  it('says so when no image has a mask under the pattern', async () => {
    await expect(importMasks({ ...options(), maskPattern: '{stem}.tif' }, createFakeImageOps())).rejects.toThrow(/no image under .* has a mask matching "\{stem\}\.tif"/);
  });

  it('builds mask paths from {stem} and {ext}', () => {
    expect(toMaskPath('/d/img', '/d/gt', '{stem}_{ext}.png', '/d/img/c/x.jpg')).toBe('/d/gt/c/x_jpg.png');
  });
});
