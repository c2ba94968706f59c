import { mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeImage, encodeRawImage, readImageSize } from '@differad/images';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCaptured } from '../testing/capture-io.js';

type Box = readonly [number, number, number, number];
const inBox = (b: Box, x: number, y: number) => x >= b[0] && x < b[2] && y >= b[1] && y < b[3];

/** A grey PNG (whatever the name says: the importers sniff the format) with pixel values from `value`. */
async function grey(path: string, width: number, height: number, value: (x: number, y: number) => number): Promise<void> {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await encodeRawImage({ data, width, height, channels: 1 }, 'png'));
}

const readManifest = (out: string) =>
  readFileSync(join(out, 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'differad-cli-import-')));
});

/** A photo-like target with a small defect, its mask (the defect plus a one-pixel speck) and a normal image of another size. */
async function writeMixedSizes(root: string): Promise<void> {
  const defect: Box = [200, 150, 203, 152];
  await grey(join(root, 'images/screw/a.png'), 456, 382, (x, y) => (inBox(defect, x, y) ? 0 : 120 + ((x + y) % 7)));
  await grey(join(root, 'masks/screw/a.png'), 456, 382, (x, y) => (inBox(defect, x, y) || (x === 10 && y === 10) ? 255 : 0));
  // A bright row at y = 50: a cover resize (uniform scale 456/355, centre crop) moves it to y ≈ 23, a stretch to y ≈ 53.
  await grey(join(root, 'normals/screw/n.png'), 355, 362, (_x, y) => (y === 50 ? 255 : 60));
}

const masksArgs = (root: string, out: string) => [
  'data',
  'import',
  'masks',
  '--images',
  join(root, 'images'),
  '--masks',
  join(root, 'masks'),
  '--normals',
  join(root, 'normals'),
  '--out',
  out,
];

describe('differad data import masks: images of mixed sizes', () => {
  it('keeps the target as it is with the tight box of its mask, and cover-resizes the reference to the target size, saying so', async () => {
    await writeMixedSizes(dir);
    const out = join(dir, 'out');
    const targetBefore = statSync(join(dir, 'images/screw/a.png')).mtimeMs;
    const imported = await runCaptured(masksArgs(dir, out));
    expect(imported.err).not.toContain('error');
    expect(imported.code).toBe(0);
    const [record] = readManifest(out);
    expect(record).toMatchObject({
      target: '../images/screw/a.png',
      width: 456,
      height: 382,
      box: [200, 150, 203, 152],
      mask: '../masks/screw/a.png',
      reference: 'images/screw/a-reference.png',
      reference_resized: { from: '../normals/screw/n.png', width: 355, height: 362, fit: 'cover', crop: [0, 32, 355, 329] },
    });
    expect(statSync(join(dir, 'images/screw/a.png')).mtimeMs).toBe(targetBefore);
    expect(await readImageSize(join(out, record.reference))).toEqual({ width: 456, height: 382 });
    const reference = await decodeImage(join(out, record.reference), { channels: 1 });
    const brightest = [...Array(reference.height).keys()].reduce(
      (best, y) => (reference.data[y * 456 + 200]! > reference.data[best * 456 + 200]! ? y : best),
      0,
    );
    expect(brightest).toBeGreaterThanOrEqual(22);
    expect(brightest).toBeLessThanOrEqual(24);

    const validated = await runCaptured(['data', 'validate', join(out, 'manifest.jsonl')]);
    expect(validated.code).toBe(0);
    expect(validated.err).toBe('');

    const all = await runCaptured([...masksArgs(dir, out), '--force', '--box-mode', 'all']);
    expect(all.code).toBe(0);
    expect(readManifest(out)[0].box).toEqual([10, 10, 203, 152]);
  });
});

describe('differad data import: nothing usable', () => {
  it('exits 2 naming what it found when every image is taken for the mask of another', async () => {
    await grey(join(dir, 'images/screw/a.png'), 32, 32, () => 100);
    await grey(join(dir, 'normals/n.png'), 32, 32, () => 100);
    const r = await runCaptured([
      'data',
      'import',
      'masks',
      '--images',
      join(dir, 'images'),
      '--normals',
      join(dir, 'normals'),
      '--out',
      join(dir, 'out'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `error [DATASET_LAYOUT_INVALID]: ${join(dir, 'images')} holds 1 image(s), but each is the mask of another under --mask-pattern "{stem}.png"`,
    );
  });

  it('exits 2 naming what it found and why when every item was skipped', async () => {
    await grey(join(dir, 'images/screw/a.png'), 32, 32, () => 100);
    await grey(join(dir, 'masks/screw/a.png'), 30, 32, () => 255);
    await grey(join(dir, 'normals/n.png'), 32, 32, () => 100);
    const r = await runCaptured([...masksArgs(dir, join(dir, 'out')), '--skip-bad']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error [DATASET_EMPTY]: the import produced no records');
    expect(r.err).toContain(': found 1 image(s) in 1 class(es), 1 with a mask; 1 item(s) were skipped, the first: mask ');
  });
});

describe('differad data import deeppcb: a window too small for every defect', () => {
  it('exits 2 and suggests a larger --window instead of importing normal windows only', async () => {
    const root = join(dir, 'PCBData');
    const board = (_x: number, y: number) => (y % 16 < 6 ? 0 : 255);
    await grey(join(root, 'group1/1/0001_temp.jpg'), 96, 96, board);
    await grey(join(root, 'group1/1/0001_test.jpg'), 96, 96, (x, y) => (inBox([20, 20, 40, 36], x, y) ? 255 - board(x, y) : board(x, y)));
    mkdirSync(join(root, 'group1/1_not'), { recursive: true });
    writeFileSync(join(root, 'group1/1_not/0001.txt'), '20 20 40 36 1\n');
    writeFileSync(join(root, 'trainval.txt'), 'group1/1/0001.jpg group1/1_not/0001.txt\n');
    const tiny = await runCaptured(['data', 'import', 'deeppcb', '--root', root, '--out', join(dir, 'out'), '--window', '8']);
    expect(tiny.code).toBe(2);
    expect(tiny.err).toContain('error [DATASET_NO_ANOMALOUS]');
    expect(tiny.err).toContain('1 defect(s) are larger than the 8-pixel window (the largest spans 20 px): pass a larger --window');
    const fits = await runCaptured(['data', 'import', 'deeppcb', '--root', root, '--out', join(dir, 'out'), '--window', '32']);
    expect(fits.code).toBe(0);
    expect(fits.out).toContain('1 anomalous');
  });
});

describe('differad data import: links', () => {
  it('follows symlinked images, folders and normals', async () => {
    await writeMixedSizes(join(dir, 'real'));
    mkdirSync(join(dir, 'images'));
    symlinkSync(join(dir, 'real/images/screw'), join(dir, 'images/screw'));
    mkdirSync(join(dir, 'normals/screw'), { recursive: true });
    symlinkSync(join(dir, 'real/normals/screw/n.png'), join(dir, 'normals/screw/n.png'));
    mkdirSync(join(dir, 'masks/screw'), { recursive: true });
    symlinkSync(join(dir, 'real/masks/screw/a.png'), join(dir, 'masks/screw/a.png'));
    const out = join(dir, 'out');
    const r = await runCaptured(masksArgs(dir, out));
    expect(r.err).not.toContain('error');
    expect(r.code).toBe(0);
    expect(readManifest(out)[0]).toMatchObject({
      target: '../images/screw/a.png',
      box: [200, 150, 203, 152],
      reference_resized: { from: '../normals/screw/n.png' },
    });
  });

  it('refuses a symlink loop with exit 2, naming the link', async () => {
    await writeMixedSizes(dir);
    symlinkSync(join(dir, 'images'), join(dir, 'images/screw/back'));
    const r = await runCaptured(masksArgs(dir, join(dir, 'out')));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`error [DATASET_LINK_LOOP]: ${join(dir, 'images/screw/back')} links back to ${join(dir, 'images')}`);
  });
});

describe('differad data: flag values', () => {
  it('rejects bad flag values as wrong usage (exit 1), naming the flag', async () => {
    const out = join(dir, 'out');
    const cases: [string[], string][] = [
      [['import', 'masks', '--images', dir, '--normals', dir, '--out', out, '--mask-pattern', 'mask.png'], '--mask-pattern'],
      [['import', 'masks', '--images', dir, '--normals', dir, '--out', out, '--box-mode', 'biggest'], '--box-mode'],
      [['import', 'mvtec', '--root', dir, '--out', out, '--top-k', '0'], '--top-k'],
      [['import', 'deeppcb', '--root', dir, '--out', out, '--window', '4'], '--window'],
      [['import', 'deeppcb', '--root', dir, '--out', out, '--normals-per-image', '-1'], '--normals-per-image'],
      [['import', 'jsonl', '--file', 'x', '--image-root', dir, '--out', out, '--jobs', '0'], '--jobs'],
      [['preview', join(dir, 'm.jsonl'), '--out', out, '--size', '20000'], '--size'],
      [['preview', join(dir, 'm.jsonl'), '--out', out, '--columns', '100'], '--columns'],
    ];
    for (const [args, flag] of cases) {
      const r = await runCaptured(['data', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain(flag);
    }
  });
});
