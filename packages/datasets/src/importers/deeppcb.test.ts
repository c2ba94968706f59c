import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeImageOps, readFakeImage, writeFakeImage } from '../testing/fake-image-ops.js';
import { importDeeppcb } from './deeppcb.js';

let dir: string;
let root: string;
let out: string;

function addPair(group: string, id: string, annotation: string): string {
  const sub = group.replace('group', '');
  writeFakeImage(join(root, group, sub, `${id}_temp.jpg`), { width: 640, height: 640, tone: 1 });
  writeFakeImage(join(root, group, sub, `${id}_test.jpg`), { width: 640, height: 640, tone: 2 });
  mkdirSync(join(root, group, `${sub}_not`), { recursive: true });
  writeFileSync(join(root, group, `${sub}_not`, `${id}.txt`), annotation);
  return `${group}/${sub}/${id}.jpg ${group}/${sub}_not/${id}.txt`;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-deeppcb-'));
  root = join(dir, 'PCBData');
  out = join(dir, 'out');
  // One isolated open, then short | mousebite | spur side by side: the mousebite has no window of its own.
  const a = addPair('group00001', '00001001', '100 100 130 130 1\n400 400 430 430 2\n440 400 470 430 3\n480 400 510 430 4\n');
  const b = addPair('group00002', '00002001', '50 500 80 520 6\n');
  writeFileSync(join(root, 'trainval.txt'), `${a}\n`);
  writeFileSync(join(root, 'test.txt'), `${b}\n`);
});

const readManifest = () =>
  readFileSync(join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('importDeeppcb', () => {
  it('cuts one window per isolated defect from both images, plus normal windows, keeping the split and the source window', async () => {
    const result = await importDeeppcb({ root, out, window: 160 }, createFakeImageOps());
    expect(result).toMatchObject({
      records: 6,
      anomalous: 4,
      normal: 2,
      details: { pairs: 2, defects: 5, defects_too_close: 1, defects_larger_than_window: 0 },
    });
    const records = readManifest();
    expect(records.map((r) => [r.id, r.class, r.subset])).toEqual([
      ['deeppcb-00001001-d1', 'open', 'trainval'],
      ['deeppcb-00001001-d2', 'short', 'trainval'],
      ['deeppcb-00001001-d4', 'spur', 'trainval'],
      ['deeppcb-00001001-n1', 'normal', 'trainval'],
      ['deeppcb-00002001-d1', 'pin-hole', 'test'],
      ['deeppcb-00002001-n1', 'normal', 'test'],
    ]);
    for (const r of records) {
      expect(r).toMatchObject({ width: 160, height: 160 });
      const [x1, y1, x2, y2] = r.source.crop;
      expect([x2 - x1, y2 - y1]).toEqual([160, 160]);
      if (r.box !== null) {
        // The box, moved back by the window origin, is the annotated box.
        const original = [r.box[0] + x1, r.box[1] + y1, r.box[2] + x1, r.box[3] + y1];
        expect([
          [100, 100, 130, 130],
          [400, 400, 430, 430],
          [480, 400, 510, 430],
          [50, 500, 80, 520],
        ]).toContainEqual(original);
      }
    }
    const first = records[0];
    expect(first.source.target).toBe('../PCBData/group00001/00001/00001001_test.jpg');
    const reference = await readFakeImage(join(out, first.reference));
    const target = await readFakeImage(join(out, first.target));
    expect(reference).toMatchObject({ tone: 1, crop: first.source.crop });
    expect(target).toMatchObject({ tone: 2, crop: first.source.crop });
  });

  it('refuses a window too small for every defect instead of importing normal windows only', async () => {
    await expect(importDeeppcb({ root, out, window: 8 }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_NO_ANOMALOUS',
      message: expect.stringContaining(
        'found 2 pair(s) with 5 defect(s); 5 defect(s) are larger than the 8-pixel window (the largest spans 30 px): pass a larger --window',
      ),
    });
    expect(existsSync(join(out, 'manifest.jsonl'))).toBe(false);
    // Without normal windows nothing at all comes out: the error says so and why.
    await expect(importDeeppcb({ root, out, window: 8, normalsPerImage: 0 }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_EMPTY',
      message: expect.stringMatching(
        /was not written: found 2 pair\(s\) with 5 defect\(s\); 5 defect\(s\) are larger .*; --normals-per-image is 0/,
      ),
    });
  });

  it('refuses an import whose every defect is too close to another for a window of its own, and says so', async () => {
    writeFileSync(join(root, 'test.txt'), '');
    // Two overlapping defects: any window holding one shares area with the other.
    const chained = addPair('group00003', '00003001', '100 100 130 130 1\n120 120 150 150 2\n');
    writeFileSync(join(root, 'trainval.txt'), `${chained}\n`);
    await expect(importDeeppcb({ root, out, window: 160 }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_NO_ANOMALOUS',
      message: expect.stringContaining('2 defect(s) have no 160-pixel window clear of other defects: a smaller --window may leave room'),
    });
  });

  it('imports only the chosen split', async () => {
    const result = await importDeeppcb({ root, out, split: 'test', normalsPerImage: 0 }, createFakeImageOps());
    expect(result.records).toBe(1);
    expect(readManifest()[0]).toMatchObject({ subset: 'test', class: 'pin-hole' });
  });

  it('names the file and line of an annotation with too few numbers or a box outside the image', async () => {
    writeFileSync(join(root, 'group00002/00002_not/00002001.txt'), '50 500 80 520 6\n10 10 20\n');
    await expect(importDeeppcb({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_ANNOTATION_INVALID',
      message: expect.stringMatching(/00002_not\/00002001\.txt:2: expected "x1 y1 x2 y2 type", got 3 value/),
    });
    writeFileSync(join(root, 'group00002/00002_not/00002001.txt'), '600 600 700 630 6\n');
    await expect(importDeeppcb({ root, out }, createFakeImageOps())).rejects.toThrow(
      /00002001\.txt:1: box \[600,600,700,630\] lies outside the 640×640 image/,
    );
    expect(existsSync(join(out, 'manifest.jsonl'))).toBe(false);
    const skipped = await importDeeppcb({ root, out, skipBad: true }, createFakeImageOps());
    expect(skipped.records).toBe(4);
    expect(skipped.skipped).toEqual([expect.objectContaining({ code: 'DATASET_ANNOTATION_INVALID' })]);
  });

  it('refuses list entries that leave the root through ..', async () => {
    writeFakeImage(join(dir, 'outside', 'x_test.jpg'), { width: 640, height: 640 });
    writeFileSync(join(root, 'test.txt'), '../outside/x.jpg ../outside_not/x.txt\n');
    await expect(importDeeppcb({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_PATH_ESCAPES_ROOT',
      message: expect.stringContaining('../outside/x_test.jpg points outside the dataset root'),
    });
    const result = await importDeeppcb({ root, out, skipBad: true }, createFakeImageOps());
    expect(result.skipped.map((s) => s.code)).toEqual(['DATASET_PATH_ESCAPES_ROOT']);
  });

  it('stops at a corrupt tested image, naming it', async () => {
    writeFileSync(join(root, 'group00001/00001/00001001_test.jpg'), '\xff\xd8 truncated');
    await expect(importDeeppcb({ root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'IMAGE_DECODE_FAILED',
      message: expect.stringContaining('00001001_test.jpg'),
    });
  });

  it('reports a malformed list line with its file and line, and a missing list file', async () => {
    writeFileSync(join(root, 'test.txt'), 'group00002/00002/00002001.jpg\n');
    await expect(importDeeppcb({ root, out }, createFakeImageOps())).rejects.toThrow(/test\.txt:1: expected/);
    await expect(importDeeppcb({ root: join(root, 'group00001'), out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_LAYOUT_INVALID',
    });
  });
});
