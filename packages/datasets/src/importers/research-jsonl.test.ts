import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeManifest } from '../manifest/manifest-writer.js';
import { createFakeImageOps, writeFakeImage } from '../testing/fake-image-ops.js';
import { exportResearchJsonl, importResearchJsonl } from './research-jsonl.js';

let dir: string;
let root: string;
let out: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'differad-research-'));
  root = join(dir, 'data');
  out = join(dir, 'out');
  writeFakeImage(join(root, 'bottle/ref.png'), { width: 200, height: 100 });
  writeFakeImage(join(root, 'bottle/tgt.png'), { width: 200, height: 100 });
});

const jsonl = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const readLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('importResearchJsonl', () => {
  it('converts norm1000 boxes to pixels, keeps ids and classes, and makes normal samples of [0,0,0,0]', async () => {
    const file = join(dir, 'train.jsonl');
    writeFileSync(
      file,
      jsonl([
        { id: 'p1', images: ['bottle/ref.png', 'bottle/tgt.png'], seg_gt_qwen2vl: [100, 200, 500, 600] },
        { images: ['bottle/ref.png', 'bottle/tgt.png'], seg_gt_qwen2vl: [0, 0, 0, 0], category: 'glass' },
        { id: 'p1', images: ['bottle/ref.png', join(root, 'bottle/tgt.png')], seg_gt_qwen2vl: '[0, 0, 1000, 1000]' },
      ]),
    );
    const result = await importResearchJsonl({ file, imageRoot: root, out }, createFakeImageOps());
    expect(result).toMatchObject({ records: 3, anomalous: 2, normal: 1 });
    const lines = readLines(join(out, 'manifest.jsonl'));
    expect(lines[0]).toMatchObject({
      id: 'p1',
      class: 'bottle',
      reference: '../data/bottle/ref.png',
      target: '../data/bottle/tgt.png',
      width: 200,
      height: 100,
      box: [20, 20, 100, 60],
    });
    expect(lines[1]).toMatchObject({ id: 'line-2', class: 'glass', box: null });
    expect(lines[2]).toMatchObject({ id: 'line-3', box: [0, 0, 200, 100] });
  });

  it('names the line of a bad box and refuses image paths that leave the image root', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, jsonl([{ images: ['bottle/ref.png', 'bottle/tgt.png'], seg_gt_qwen2vl: [1, 2, 3] }]));
    await expect(importResearchJsonl({ file, imageRoot: root, out }, createFakeImageOps())).rejects.toThrow(
      /bad\.jsonl:1: seg_gt_qwen2vl needs 4 numbers/,
    );
    writeFileSync(file, jsonl([{ images: ['bottle/ref.png', '../secret.png'], seg_gt_qwen2vl: [0, 0, 0, 0] }, 'not json']));
    await expect(importResearchJsonl({ file, imageRoot: root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_ANNOTATION_INVALID',
    });
    const skipped = await importResearchJsonl({ file, imageRoot: root, out, skipBad: true }, createFakeImageOps()).catch((e: Error) => e);
    // Both lines are bad, so nothing is written: an empty import is an error that lists why.
    expect(skipped).toMatchObject({ code: 'DATASET_EMPTY', message: expect.stringContaining('2 item(s) were skipped') });
    writeFileSync(file, jsonl([{ images: ['bottle/ref.png', '../secret.png'], seg_gt_qwen2vl: [0, 0, 0, 0] }]));
    await expect(importResearchJsonl({ file, imageRoot: root, out }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_PATH_ESCAPES_ROOT',
    });
  });
  it('refuses an import whose every line with a box was skipped, saying what it found', async () => {
    const file = join(dir, 'half.jsonl');
    writeFileSync(
      file,
      jsonl([
        { images: ['bottle/ref.png', 'bottle/tgt.png'], seg_gt_qwen2vl: [0, 0, 0, 0] },
        { images: ['bottle/ref.png', 'bottle/gone.png'], seg_gt_qwen2vl: [1, 2, 3, 4] },
      ]),
    );
    await expect(importResearchJsonl({ file, imageRoot: root, out, skipBad: true }, createFakeImageOps())).rejects.toMatchObject({
      code: 'DATASET_NO_ANOMALOUS',
      message: expect.stringContaining(`found 2 line(s) in ${file}, 1 with a box; 1 item(s) were skipped`),
    });
  });
});

describe('exportResearchJsonl', () => {
  it('writes images and norm1000 boxes, relative to an image root when given, and round-trips', async () => {
    const manifest = join(dir, 'm', 'manifest.jsonl');
    await writeManifest(manifest, [
      {
        id: 'a',
        class: 'bottle',
        subset: 'object',
        reference: '../data/bottle/ref.png',
        target: '../data/bottle/tgt.png',
        width: 200,
        height: 100,
        box: [20, 20, 100, 60],
      },
      {
        id: 'b',
        class: 'bottle',
        reference: '../data/bottle/ref.png',
        target: '../data/bottle/tgt.png',
        width: 200,
        height: 100,
        box: null,
      },
    ]);
    const file = join(dir, 'export.jsonl');
    expect(await exportResearchJsonl({ manifest, out: file, imageRoot: root })).toBe(2);
    const lines = readLines(file);
    expect(lines[0]).toEqual({
      id: 'a',
      class: 'bottle',
      subset: 'object',
      images: ['bottle/ref.png', 'bottle/tgt.png'],
      seg_gt_qwen2vl: [100, 200, 500, 600],
      width: 200,
      height: 100,
    });
    expect(lines[1].seg_gt_qwen2vl).toEqual([0, 0, 0, 0]);
    await exportResearchJsonl({ manifest, out: file });
    expect(readLines(file)[0].images[1]).toBe(join(root, 'bottle/tgt.png'));
    await importResearchJsonl({ file, imageRoot: root, out }, createFakeImageOps());
    expect(readLines(join(out, 'manifest.jsonl')).map((r) => [r.id, r.box])).toEqual([
      ['a', [20, 20, 100, 60]],
      ['b', null],
    ]);
  });
});
