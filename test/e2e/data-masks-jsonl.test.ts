import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

type Box = readonly [number, number, number, number];
const inBox = (b: Box, x: number, y: number) => x >= b[0] && x < b[2] && y >= b[1] && y < b[3];

async function png(path: string, width: number, height: number, value: (x: number, y: number) => number): Promise<void> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  mkdirSync(dirname(path), { recursive: true });
  await sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toFile(path);
}

const gradient = (w: number) => (x: number) => Math.round((x / w) * 200) + 20;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'differad-e2e-masks-'));
  const a: Box = [8, 8, 20, 16];
  const b: Box = [40, 20, 80, 60];
  await png(join(dir, 'images/screw/a.jpg'), 64, 48, (x, y) => (inBox(a, x, y) ? 0 : gradient(64)(x)));
  await png(join(dir, 'masks/screw/a_mask.png'), 64, 48, (x, y) => (inBox(a, x, y) ? 255 : 0));
  // Twice the size of the normal image: the target keeps its size and box, the reference is scaled up to it.
  await png(join(dir, 'images/screw/b.jpg'), 128, 96, (x, y) => (inBox(b, x, y) ? 255 : gradient(128)(x)));
  await png(join(dir, 'masks/screw/b_mask.png'), 128, 96, (x, y) => (inBox(b, x, y) ? 255 : 0));
  await png(join(dir, 'normals/screw/n.png'), 64, 48, (x) => gradient(64)(x));
});

const readLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('differad data import masks / jsonl, export jsonl', () => {
  it('pairs masked images with a normal one brought to their size, and round-trips through the research JSONL', async () => {
    const out = join(dir, 'out');
    const imported = await runCli([
      'data',
      'import',
      'masks',
      '--images',
      join(dir, 'images'),
      '--masks',
      join(dir, 'masks'),
      '--mask-pattern',
      '{stem}_mask.png',
      '--normals',
      join(dir, 'normals'),
      '--out',
      out,
    ]);
    expect(imported.stderr).not.toContain('error');
    expect(imported.code).toBe(0);
    const byId = Object.fromEntries(readLines(join(out, 'manifest.jsonl')).map((r) => [r.id, r]));
    expect(byId['screw-a']).toMatchObject({ box: [8, 8, 20, 16], width: 64, height: 48, reference: '../normals/screw/n.png' });
    expect(byId['screw-b']).toMatchObject({
      box: [40, 20, 80, 60],
      width: 128,
      height: 96,
      target: '../images/screw/b.jpg',
      reference: 'images/screw/b-reference.png',
      reference_resized: { from: '../normals/screw/n.png', width: 64, height: 48, fit: 'cover', crop: [0, 0, 64, 48] },
    });
    const meta = await sharp(join(out, 'images/screw/b-reference.png')).metadata();
    expect([meta.width, meta.height]).toEqual([128, 96]);

    const research = join(dir, 'research.jsonl');
    const exported = await runCli([
      'data',
      'export',
      'jsonl',
      '--manifest',
      join(out, 'manifest.jsonl'),
      '--out',
      research,
      '--image-root',
      dir,
    ]);
    expect(exported.code).toBe(0);
    const lines = readLines(research);
    expect(lines.find((l) => l.id === 'screw-a')).toMatchObject({
      images: ['normals/screw/n.png', 'images/screw/a.jpg'],
      seg_gt_qwen2vl: [125, 167, 313, 333],
    });
    const back = join(dir, 'back');
    const reimported = await runCli(['data', 'import', 'jsonl', '--file', research, '--image-root', dir, '--out', back]);
    expect(reimported.code).toBe(0);
    const again = Object.fromEntries(readLines(join(back, 'manifest.jsonl')).map((r) => [r.id, r]));
    expect(again['screw-a'].box).toEqual([8, 8, 20, 16]);
    expect(again['screw-b'].box).toEqual([40, 20, 80, 60]);
  });
});
