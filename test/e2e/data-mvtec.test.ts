import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** Writes an 8-bit grey PNG whose pixel (x, y) is `value(x, y)`. */
async function png(path: string, width: number, height: number, value: (x: number, y: number) => number): Promise<void> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  mkdirSync(dirname(path), { recursive: true });
  await sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toFile(path);
}

const W = 96;
const H = 64;
/** Three distinct "products": stripes of different periods. */
const stripes = (period: number) => (x: number, y: number) => (Math.floor((x + y) / period) % 2 === 0 ? 60 : 190);
const inBox = (b: readonly number[], x: number, y: number) => x >= b[0]! && x < b[2]! && y >= b[1]! && y < b[3]!;

let dir: string;
let root: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'differad-e2e-mvtec-'));
  root = join(dir, 'mvtec');
  const periods = [4, 9, 20];
  await Promise.all(periods.map((p, k) => png(join(root, 'bottle/train/good', `00${k}.png`), W, H, stripes(p))));
  await png(join(root, 'bottle/test/good/000.png'), W, H, stripes(20));
  const defect = [30, 20, 42, 31];
  await png(join(root, 'bottle/test/broken_large/000.png'), W, H, (x, y) => (inBox(defect, x, y) ? 255 : stripes(9)(x, y)));
  await png(join(root, 'bottle/ground_truth/broken_large/000_mask.png'), W, H, (x, y) => (inBox(defect, x, y) ? 255 : 0));
  await png(join(root, 'wood/train/good/000.png'), W, H, stripes(6));
  await png(join(root, 'wood/test/scratch/000.png'), W, H, (x, y) => (inBox([5, 5, 9, 40], x, y) ? 0 : stripes(6)(x, y)));
  // Two blobs: the box is the largest 8-connected one.
  await png(join(root, 'wood/ground_truth/scratch/000_mask.png'), W, H, (x, y) =>
    inBox([5, 5, 9, 40], x, y) || inBox([70, 50, 72, 52], x, y) ? 255 : 0,
  );
});

const readManifest = (out: string) =>
  readFileSync(join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('differad data import mvtec', () => {
  it('imports real images: mask boxes, empty boxes for good, the most similar good image as reference', async () => {
    const out = join(dir, 'out');
    const result = await runCli(['data', 'import', 'mvtec', '--root', root, '--out', out, '--jobs', '2', '--top-k', '2']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('imported 3 mvtec record(s): 2 anomalous, 1 normal');
    const byId = Object.fromEntries(readManifest(out).map((r) => [r.id, r]));
    expect(byId['bottle-broken_large-000']).toMatchObject({
      class: 'bottle',
      subset: 'object',
      box: [30, 20, 42, 31],
      width: W,
      height: H,
      reference: '../mvtec/bottle/train/good/001.png',
      mask: '../mvtec/bottle/ground_truth/broken_large/000_mask.png',
    });
    expect(byId['bottle-broken_large-000'].references_topk).toHaveLength(2);
    expect(byId['bottle-good-000']).toMatchObject({ box: null, reference: '../mvtec/bottle/train/good/002.png' });
    expect(byId['wood-scratch-000']).toMatchObject({ subset: 'texture', box: [5, 5, 9, 40] });
    const validate = await runCli(['data', 'validate', join(out, 'manifest.jsonl')]);
    expect(validate.stdout).toContain('3 record(s) valid');
    expect(validate.code).toBe(0);
  });

  it('stops at a truncated image naming it, writes no manifest, and with --skip-bad lists it', async () => {
    const bad = join(root, 'bottle/test/good/001.png');
    const bytes = readFileSync(join(root, 'bottle/test/good/000.png'));
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
    try {
      const out = join(dir, 'out-bad');
      const failed = await runCli(['data', 'import', 'mvtec', '--root', root, '--out', out]);
      expect(failed.code).toBe(2);
      expect(failed.stderr).toMatch(/error \[IMAGE_DECODE_FAILED\]: .*bottle\/test\/good\/001\.png/);
      expect(existsSync(join(out, 'manifest.jsonl'))).toBe(false);
      const skipped = await runCli(['data', 'import', 'mvtec', '--root', root, '--out', out, '--skip-bad', '--json']);
      expect(skipped.code).toBe(0);
      const summary = JSON.parse(skipped.stdout);
      expect(summary).toMatchObject({ records: 3, skipped: [{ file: bad, code: 'IMAGE_DECODE_FAILED' }] });
      expect(readManifest(out)).toHaveLength(3);
    } finally {
      rmSync(bad);
    }
  });
});
