import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
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
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'differad-masks-')));
  [images, masks, normals, out] = ['images', 'masks', 'normals', 'out'].map((d) => join(dir, d)) as [string, string, string, string];
  writeFakeImage(join(images, 'screw/a.jpg'), { width: 64, height: 48, tone: 20 });
  writeFakeImage(join(images, 'screw/b.jpg'), { width: 128, height: 96, tone: 80 });
  writeFakeImage(join(images, 'screw/sub/c.jpg'), { width: 64, height: 48, tone: 50 });
  writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 64, height: 48, box: [5, 6, 7, 8] });
  writeFakeImage(join(masks, 'screw/b_mask.png'), { width: 128, height: 96, box: [20, 20, 61, 40] });
  writeFakeImage(join(normals, 'screw/n1.png'), { width: 64, height: 48, tone: 22 });
  writeFakeImage(join(normals, 'screw/n2.png'), { width: 64, height: 48, tone: 78 });
});

const readManifest = () =>
  readFileSync(join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const options = () => ({ images, masks, maskPattern: '{stem}_mask.png', normals, out });

describe('importMasks', () => {
  it('boxes masked images, keeps unmasked ones normal, and keeps every target as it is', async () => {
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
    expect(byId['screw-a'].reference_resized).toBeUndefined();
    expect(byId['screw-sub-c']).toMatchObject({ box: null, class: 'screw' });
    // 128×96 against a 64×48 normal: the target and its mask box stay as they are, the reference is scaled up to it.
    const b = byId['screw-b'];
    expect(b).toMatchObject({
      target: '../images/screw/b.jpg',
      mask: '../masks/screw/b_mask.png',
      width: 128,
      height: 96,
      box: [20, 20, 61, 40],
      reference: 'images/screw/b-reference.png',
      reference_resized: { from: '../normals/screw/n2.png', width: 64, height: 48, fit: 'cover', crop: [0, 0, 64, 48] },
    });
    expect(b.source).toBeUndefined();
    expect(await readFakeImage(join(out, b.reference))).toMatchObject({ width: 128, height: 96, tone: 78, crop: [0, 0, 64, 48] });
  });

  it('cover-resizes a reference of another aspect ratio: uniform scale, centre crop, never a stretch', async () => {
    writeFakeImage(join(images, 'screw/b.jpg'), { width: 456, height: 382, tone: 80 });
    writeFakeImage(join(masks, 'screw/b_mask.png'), { width: 456, height: 382, box: [200, 150, 203, 152] });
    writeFakeImage(join(normals, 'screw/n2.png'), { width: 355, height: 362, tone: 78 });
    await importMasks(options(), createFakeImageOps());
    const b = readManifest().find((r) => r.id === 'screw-b');
    expect(b).toMatchObject({ target: '../images/screw/b.jpg', width: 456, height: 382, box: [200, 150, 203, 152] });
    expect(b.reference_resized).toEqual({
      from: '../normals/screw/n2.png',
      width: 355,
      height: 362,
      fit: 'cover',
      crop: [0, 32, 355, 329],
    });
    expect(await readFakeImage(join(out, b.reference))).toMatchObject({ width: 456, height: 382, crop: [0, 32, 355, 329] });
  });

  it('follows symlinked images, folders and masks', async () => {
    const linked = join(dir, 'linked');
    mkdirSync(join(linked, 'screw'), { recursive: true });
    symlinkSync(join(images, 'screw/a.jpg'), join(linked, 'screw/a.jpg'));
    symlinkSync(join(images, 'screw/sub'), join(linked, 'screw/sub'));
    const linkedMasks = join(dir, 'linked-masks');
    mkdirSync(join(linkedMasks, 'screw'), { recursive: true });
    symlinkSync(join(masks, 'screw/a_mask.png'), join(linkedMasks, 'screw/a_mask.png'));
    symlinkSync(normals, join(dir, 'linked-normals'));
    const result = await importMasks(
      { ...options(), images: linked, masks: linkedMasks, normals: join(dir, 'linked-normals') },
      createFakeImageOps(),
    );
    expect(result).toMatchObject({ records: 2, anomalous: 1 });
    expect(readManifest().map((r) => [r.id, r.target, r.box])).toEqual([
      ['screw-a', '../linked/screw/a.jpg', [5, 6, 7, 8]],
      ['screw-sub-c', '../linked/screw/sub/c.jpg', null],
    ]);
  });

  it('refuses a folder that links back into itself, naming the link', async () => {
    symlinkSync(images, join(images, 'screw/sub/again'));
    await expect(importMasks(options(), createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_LINK_LOOP',
      message: expect.stringContaining(`${join(images, 'screw/sub/again')} links back to ${images}`),
    });
  });

  it('says what it found and why no record came of it', async () => {
    writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 60, height: 48, box: [1, 1, 2, 2] });
    rmSync(join(images, 'screw/b.jpg'));
    rmSync(join(images, 'screw/sub/c.jpg'));
    await expect(importMasks({ ...options(), skipBad: true }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_EMPTY',
      message: expect.stringMatching(
        /was not written: found 1 image\(s\) in 1 class\(es\), 1 with a mask; 1 item\(s\) were skipped, the first: mask .*a_mask\.png is 60×48/,
      ),
    });
  });

  it('refuses an import whose every masked image was skipped: it would hold normal samples only', async () => {
    writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 64, height: 48, box: null });
    writeFakeImage(join(masks, 'screw/b_mask.png'), { width: 64, height: 48, box: null });
    await expect(importMasks({ ...options(), skipBad: true }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_NO_ANOMALOUS',
      message: expect.stringContaining('found 3 image(s) in 1 class(es), 2 with a mask'),
    });
  });

  it('finds masks beside their images and does not take them for targets', async () => {
    writeFakeImage(join(images, 'screw/a.png'), { width: 64, height: 48, box: [1, 1, 3, 3] });
    const result = await importMasks({ images, normals, out, maskPattern: '{stem}.png' }, createFakeImageOps());
    expect(result.records).toBe(3);
    expect(readManifest().find((r) => r.id === 'screw-a')).toMatchObject({ box: [1, 1, 3, 3], mask: '../images/screw/a.png' });
  });

  it('rejects a mask of another size and an empty mask, naming the mask', async () => {
    writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 60, height: 48, box: [1, 1, 2, 2] });
    await expect(importMasks(options(), createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_MASK_SIZE_MISMATCH',
      message: expect.stringContaining('a_mask.png is 60×48'),
    });
    writeFakeImage(join(masks, 'screw/a_mask.png'), { width: 64, height: 48, box: null });
    await expect(importMasks(options(), createFakeImageOps())).rejects.toMatchObject({ code: 'DATASET_MASK_EMPTY' });
    const result = await importMasks({ ...options(), skipBad: true }, createFakeImageOps());
    expect(result.skipped).toEqual([expect.objectContaining({ file: join(images, 'screw/a.jpg'), code: 'DATASET_MASK_EMPTY' })]);
  });

  it('rejects a class without normal images, naming the class folder', async () => {
    writeFakeImage(join(images, 'nut/x.jpg'), { width: 64, height: 48, tone: 1 });
    await expect(importMasks(options(), createFakeImageOps())).rejects.toThrow(
      `class nut has no normal images: none readable in ${join(normals, 'nut')}`,
    );
    // Normals directly in the folder serve every class.
    writeFakeImage(join(normals, 'shared.png'), { width: 64, height: 48, tone: 2 });
    await expect(importMasks(options(), createFakeImageOps())).resolves.toMatchObject({ records: 4 });
  });

  it('refuses a mask pattern that leaves the mask folder', async () => {
    rmSync(join(masks, 'screw/a_mask.png'));
    writeFakeImage(join(dir, 'a.png'), { width: 64, height: 48, box: [1, 1, 2, 2] });
    await expect(importMasks({ ...options(), maskPattern: '../../{stem}.png' }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_PATH_ESCAPES_ROOT',
    });
  });

  it('says so when no image has a mask under the pattern', async () => {
    await expect(importMasks({ ...options(), maskPattern: '{stem}.tif' }, createFakeImageOps())).rejects.toThrow(
      /no image under .* has a mask matching "\{stem\}\.tif"/,
    );
  });

  it('builds mask paths from {stem} and {ext}', () => {
    expect(toMaskPath('/d/img', '/d/gt', '{stem}_{ext}.png', '/d/img/c/x.jpg')).toBe('/d/gt/c/x_jpg.png');
  });
});
