/**
 * bench/images — the image adapter's hot paths, side by side in one run:
 * model-frame preparation of 800×800 JPEG pairs (decode + resize + encode),
 * cold and then again from the content-hash cache, with the speed-up; and
 * mask → box throughput at 800×800 (from binary masks, and from PNG files).
 * Prints figures, never pass/fail.
 *
 *   npm run bench:images                # 48 pairs, 400 masks
 *   npm run bench:images -- --quick     # 6 pairs, 40 masks, to prove it runs
 *   npm run bench:images -- --pairs 100 --masks 1000
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, type Rng } from '@differad/core';
import {
  type BinaryMask,
  computeMaskBox,
  createFramePreparer,
  drawExamplePair,
  EXAMPLE_CLASSES,
  type FramePrepareOptions,
  loadMask,
  writeRawImage,
} from '@differad/images';
import sharp from 'sharp';

const SIDE = 800;

function parseArgs(argv: readonly string[]): { pairs: number; masks: number } {
  const quick = argv.includes('--quick');
  const read = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs an integer ≥ 1, got ${argv[i + 1]}`);
    return n;
  };
  return { pairs: read('--pairs', quick ? 6 : 48), masks: read('--masks', quick ? 40 : 400) };
}

async function writePairs(dir: string, n: number): Promise<{ reference: string; target: string }[]> {
  const rng = createRng('bench-images');
  const pairs: { reference: string; target: string }[] = [];
  for (let i = 0; i < n; i++) {
    const cls = EXAMPLE_CLASSES[i % EXAMPLE_CLASSES.length]!.name;
    const pair = drawExamplePair(rng, cls, SIDE, SIDE, i % 4 !== 0);
    const reference = join(dir, `${i}-reference.jpg`);
    const target = join(dir, `${i}-target.jpg`);
    await writeRawImage(reference, pair.reference, { quality: 92 });
    await writeRawImage(target, pair.target, { quality: 92 });
    pairs.push({ reference, target });
  }
  return pairs;
}

function drawMask(rng: Rng): BinaryMask {
  const data = new Uint8Array(SIDE * SIDE);
  const blobs = rng.int(1, 4);
  for (let b = 0; b < blobs; b++) {
    const rx = rng.int(5, 120);
    const ry = rng.int(5, 120);
    const cx = rng.int(rx, SIDE - rx - 1);
    const cy = rng.int(ry, SIDE - ry - 1);
    for (let y = cy - ry; y <= cy + ry; y++) {
      for (let x = cx - rx; x <= cx + rx; x++) {
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) data[y * SIDE + x] = 1;
      }
    }
  }
  return { data, width: SIDE, height: SIDE };
}

async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function fmt(x: number, digits = 1): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function benchPrepare(pairs: readonly { reference: string; target: string }[], options: FramePrepareOptions, name: string) {
  const preparer = createFramePreparer(options);
  const run = () =>
    timeAsync(async () => {
      for (const p of pairs) await preparer.preparePair(p.reference, p.target);
    });
  const cold = await run();
  const coldStats = preparer.stats();
  const warm = await run();
  const stats = preparer.stats();
  const n = pairs.length;
  console.log(
    `  ${name.padEnd(14)} cold ${fmt(n / cold).padStart(8)} pairs/s   cached ${fmt(n / warm).padStart(9)} pairs/s   ` +
      `speed-up ×${fmt(cold / warm)}   (misses ${coldStats.misses}, hits ${stats.hits - coldStats.hits}, ` +
      `${fmt(stats.bytes / 1024 / 1024 / stats.entries, 2)} MiB per data URL)`,
  );
}

async function main(): Promise<void> {
  const { pairs: nPairs, masks: nMasks } = parseArgs(process.argv.slice(2));
  // libvips' own operation cache would blur "cold"; the content-hash cache is what is measured.
  sharp.cache(false);
  const dir = await mkdtemp(join(tmpdir(), 'differad-bench-images-'));
  try {
    console.log(
      `bench/images: ${nPairs} pairs of ${SIDE}×${SIDE} JPEG, ${nMasks} masks of ${SIDE}×${SIDE}; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${sharp.concurrency()} vips threads`,
    );
    const pairs = await writePairs(dir, nPairs);
    console.log('pair preparation (decode + resize to the model frame + encode + base64), sequential:');
    await benchPrepare(pairs, { format: 'png' }, 'png (default)');
    await benchPrepare(pairs, { format: 'jpeg', quality: 95 }, 'jpeg q95');

    const rng = createRng('bench-masks');
    const masks = Array.from({ length: nMasks }, () => drawMask(rng));
    console.log('mask → box:');
    for (const mode of ['largest', 'all'] as const) {
      let boxes = 0;
      const t0 = performance.now();
      for (const m of masks) boxes += computeMaskBox(m, { mode }) === null ? 0 : 1;
      const s = (performance.now() - t0) / 1000;
      console.log(
        `  ${`binary, ${mode}`.padEnd(20)} ${fmt(nMasks / s).padStart(9)} masks/s   (${fmt((s * 1000) / nMasks, 2)} ms each, ${boxes} boxes)`,
      );
    }
    const files = Math.min(nMasks, 100);
    for (let i = 0; i < files; i++) {
      const m = masks[i]!;
      await writeRawImage(join(dir, `mask-${i}.png`), { data: m.data.map((v) => v * 255), width: SIDE, height: SIDE, channels: 1 });
    }
    const size = { width: SIDE, height: SIDE };
    const s = await timeAsync(async () => {
      for (let i = 0; i < files; i++) computeMaskBox(await loadMask(join(dir, `mask-${i}.png`), size));
    });
    console.log(
      `  ${'PNG file, largest'.padEnd(20)} ${fmt(files / s).padStart(9)} masks/s   (decode + binarize + components, ${files} files)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
