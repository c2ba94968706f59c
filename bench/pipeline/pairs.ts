/**
 * Small generated image pairs for bench/pipeline: a smooth reference and a
 * target with one dark rectangle, written as PNG with sharp, plus a manifest.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng } from '@differad/core';
import sharp from 'sharp';

/**
 * Writes `count` anomalous pairs of `size`×`size` into `dir` and a manifest
 * of `listed` pairs (default `count`): ids bench-0…, the images taken in
 * turn, as a large dataset's manifest without as many files. Returns its path.
 */
export async function writeBenchPairs(dir: string, count: number, size: number, listed = count): Promise<string> {
  const rng = createRng('bench-pipeline-pairs');
  const lines: string[] = [];
  const boxes: [number, number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const base = Buffer.alloc(size * size * 3);
    const tint = rng.int(0, 60);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const o = (y * size + x) * 3;
        base[o] = 120 + ((x + tint) % 80);
        base[o + 1] = 110 + ((y + tint) % 90);
        base[o + 2] = 140 + (((x + y) >> 1) % 60);
      }
    }
    const target = Buffer.from(base);
    const w = rng.int(size >> 3, size >> 1);
    const h = rng.int(size >> 3, size >> 1);
    const x1 = rng.int(0, size - w);
    const y1 = rng.int(0, size - h);
    for (let y = y1; y < y1 + h; y++) target.fill(30, (y * size + x1) * 3, (y * size + x1 + w) * 3);
    const raw = { raw: { width: size, height: size, channels: 3 as const } };
    await sharp(base, raw)
      .png()
      .toFile(join(dir, `ref-${i}.png`));
    await sharp(target, raw)
      .png()
      .toFile(join(dir, `tgt-${i}.png`));
    boxes.push([x1, y1, x1 + w, y1 + h]);
  }
  for (let i = 0; i < listed; i++) {
    const k = i % count;
    lines.push(
      JSON.stringify({
        id: `bench-${i}`,
        class: 'bench',
        reference: `ref-${k}.png`,
        target: `tgt-${k}.png`,
        width: size,
        height: size,
        box: boxes[k],
      }),
    );
  }
  const manifest = join(dir, 'manifest.jsonl');
  await writeFile(manifest, `${lines.join('\n')}\n`);
  return manifest;
}
