import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeImageOps, writeFakeImage } from '../testing/fake-image-ops.js';
import { importMvtec } from './mvtec.js';

let dir: string;
let root: string;
let out: string;

function buildTree(): void {
  const img = (rel: string, tone: number, width = 64, height = 48) => writeFakeImage(join(root, rel), { width, height, tone });
  img('bottle/train/good/000.png', 10);
  img('bottle/train/good/001.png', 50);
  img('bottle/train/good/002.png', 90);
  img('bottle/test/good/000.png', 48);
  img('bottle/test/broken/000.png', 88);
  img('bottle/test/broken/001.png', 12);
  writeFakeImage(join(root, 'bottle/ground_truth/broken/000_mask.png'), { width: 64, height: 48, box: [10, 12, 30, 20] });
  writeFakeImage(join(root, 'bottle/ground_truth/broken/001_mask.png'), { width: 64, height: 48, box: [0, 0, 5, 5] });
  // VisA converted to this layout names masks <stem>.png.
  img('candle/train/good/a.png', 30);
  img('candle/test/wax/a.png', 31);
  writeFakeImage(join(root, 'candle/ground_truth/wax/a.png'), { width: 64, height: 48, box: [1, 1, 2, 2] });
  writeFileSync(join(root, 'license.txt'), 'not a class');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-mvtec-'));
  root = join(dir, 'mvtec');
  out = join(dir, 'out');
  buildTree();
});

const readManifest = () =>
  readFileSync(join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('importMvtec', () => {
  it('makes one record per test image with mask boxes, empty boxes for good, and the most similar reference', async () => {
    const ops = createFakeImageOps();
    const result = await importMvtec({ root, out, topK: 2, jobs: 2 }, ops);
    expect(result).toMatchObject({ records: 4, anomalous: 3, normal: 1, skipped: [] });
    expect(ops.maxInFlight).toBeLessThanOrEqual(2);
    const byId = Object.fromEntries(readManifest().map((r) => [r.id, r]));
    expect(Object.keys(byId).sort()).toEqual(['bottle-broken-000', 'bottle-broken-001', 'bottle-good-000', 'candle-wax-a']);
    expect(byId['bottle-broken-000']).toMatchObject({
      version: 1,
      class: 'bottle',
      subset: 'object',
      defect: 'broken',
      target: '../mvtec/bottle/test/broken/000.png',
      reference: '../mvtec/bottle/train/good/002.png',
      mask: '../mvtec/bottle/ground_truth/broken/000_mask.png',
      width: 64,
      height: 48,
      box: [10, 12, 30, 20],
      references_topk: [
        { path: '../mvtec/bottle/train/good/002.png', similarity: -2 },
        { path: '../mvtec/bottle/train/good/001.png', similarity: -38 },
      ],
    });
    expect(byId['bottle-good-000']).toMatchObject({ box: null, reference: '../mvtec/bottle/train/good/001.png' });
    expect(byId['bottle-good-000'].mask).toBeUndefined();
    expect(byId['bottle-broken-001'].reference).toBe('../mvtec/bottle/train/good/000.png');
    expect(byId['candle-wax-a']).toMatchObject({ mask: '../mvtec/candle/ground_truth/wax/a.png', box: [1, 1, 2, 2] });
    expect(byId['candle-wax-a'].subset).toBeUndefined();
  });

  it('stops at a corrupt image naming it and writes no manifest; --skip-bad lists it', async () => {
    writeFileSync(join(root, 'bottle/test/broken/001.png'), '\x89PNG truncated');
    await expect(importMvtec({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
      message: expect.stringContaining('bottle/test/broken/001.png'),
    });
    expect(existsSync(join(out, 'manifest.jsonl'))).toBe(false);
    const result = await importMvtec({ root, out, skipBad: true }, createFakeImageOps());
    expect(result.records).toBe(3);
    expect(result.skipped).toEqual([
      expect.objectContaining({ code: 'IMAGE_DECODE_FAILED', file: join(root, 'bottle/test/broken/001.png') }),
    ]);
    expect(readManifest()).toHaveLength(3);
  });

  it('rejects a mask of another size, an empty mask on a defective image, and a missing mask, naming the file', async () => {
    writeFakeImage(join(root, 'bottle/ground_truth/broken/000_mask.png'), { width: 32, height: 48, box: [1, 1, 2, 2] });
    await expect(importMvtec({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_MASK_SIZE_MISMATCH',
      message: expect.stringMatching(/000_mask\.png is 32×48 but its image .*000\.png is 64×48/),
    });
    writeFakeImage(join(root, 'bottle/ground_truth/broken/000_mask.png'), { width: 64, height: 48, box: null });
    await expect(importMvtec({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_MASK_EMPTY',
      message: expect.stringContaining('000_mask.png is empty'),
    });
    rmSync(join(root, 'bottle/ground_truth/broken/000_mask.png'));
    await expect(importMvtec({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_LAYOUT_INVALID',
      message: expect.stringContaining('has no mask'),
    });
  });

  it('rejects a class folder without normal images, or skips the class with --skip-bad', async () => {
    rmSync(join(root, 'candle/train/good'), { recursive: true });
    await expect(importMvtec({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_LAYOUT_INVALID',
      message: expect.stringContaining(`class candle has no normal images: ${join(root, 'candle/train/good')}`),
    });
    const result = await importMvtec({ root, out, skipBad: true }, createFakeImageOps());
    expect(result.records).toBe(3);
    expect(result.skipped.map((s) => s.file)).toEqual([join(root, 'candle/train/good')]);
  });

  it('follows an image that links outside the dataset root', async () => {
    writeFakeImage(join(dir, 'elsewhere.png'), { width: 64, height: 48, tone: 1 });
    rmSync(join(root, 'bottle/test/good/000.png'));
    symlinkSync(join(dir, 'elsewhere.png'), join(root, 'bottle/test/good/000.png'));
    await expect(importMvtec({ root, out }, createFakeImageOps())).resolves.toMatchObject({ records: 4 });
    expect(readManifest().find((r) => r.id === 'bottle-good-000')).toMatchObject({
      target: '../mvtec/bottle/test/good/000.png',
      reference: '../mvtec/bottle/train/good/000.png',
    });
  });

  it('keeps a test image of another size as it is and cover-resizes its reference to it', async () => {
    writeFakeImage(join(root, 'candle/test/wax/a.png'), { width: 128, height: 64, tone: 31 });
    writeFakeImage(join(root, 'candle/ground_truth/wax/a.png'), { width: 128, height: 64, box: [100, 50, 104, 52] });
    await importMvtec({ root, out }, createFakeImageOps());
    const candle = readManifest().find((r) => r.id === 'candle-wax-a');
    expect(candle).toMatchObject({
      target: '../mvtec/candle/test/wax/a.png',
      width: 128,
      height: 64,
      box: [100, 50, 104, 52],
      reference: 'images/candle/wax/a-reference.png',
      reference_resized: { from: '../mvtec/candle/train/good/a.png', width: 64, height: 48, fit: 'cover', crop: [0, 8, 64, 40] },
    });
  });

  it('will not replace an existing manifest without force', async () => {
    await importMvtec({ root, out }, createFakeImageOps());
    await expect(importMvtec({ root, out }, createFakeImageOps())).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    await expect(importMvtec({ root, out, force: true }, createFakeImageOps())).resolves.toMatchObject({ records: 4 });
  });

  it('says when the root holds no class folder', async () => {
    await expect(importMvtec({ root: join(root, 'bottle/train'), out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_LAYOUT_INVALID',
    });
  });
});
