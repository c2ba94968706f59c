/**
 * bench/synth — synthetic pairs per second at 512×512 with 1 and 2 worker
 * threads, measured side by side, and where the time of one pair goes
 * (noise, components, augmentation, blend + warp, encode). Figures only.
 *
 *   npm run bench:synth               # 120 pairs per run
 *   npm run bench:synth -- --quick    # 16 pairs per run, to prove it runs
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@differad/core';
import {
  augmentTexture,
  blendAnomaly,
  computeConnectedComponents,
  computeForegroundBox,
  computePerlinNoise,
  createProceduralTexture,
  DEFAULT_SYNTHESIS_OPTIONS,
  drawPerlinOptions,
  encodeRawImage,
  prepareReference,
  rotateRgb,
  type SynthesisPlan,
  thresholdNoise,
  writeRawImage,
} from '@differad/images';
import { createPairPool } from '@differad/cli';

const SIZE = 512;
const quick = process.argv.includes('--quick');
const pairs = quick ? 16 : 120;

async function makeNormals(dir: string, count: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const w = 640;
    const data = new Uint8Array(w * w * 3).fill(220);
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) if ((x - 320) ** 2 + (y - 320) ** 2 < 250 ** 2) data.set([70 + i * 8, 120, 90], (y * w + x) * 3);
    const file = join(dir, `normal-${i}.png`);
    await writeRawImage(file, { data, width: w, height: w, channels: 3 });
    files.push(file);
  }
  return files;
}

function timeStages(n: number) {
  const t = { noise: 0, components: 0, augmentation: 0, blendWarp: 0 };
  const rng = createRng('stages');
  const reference = createProceduralTexture(rng, SIZE, SIZE, 'noise');
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    const mask = thresholdNoise(computePerlinNoise(rng, drawPerlinOptions(rng, SIZE, SIZE)));
    t.noise += performance.now() - t0;
    t0 = performance.now();
    computeConnectedComponents({ data: mask, width: SIZE, height: SIZE });
    t.components += performance.now() - t0;
    const region = computeForegroundBox({ data: mask, width: SIZE, height: SIZE }) ?? [0, 0, SIZE, SIZE];
    t0 = performance.now();
    // As in synthesis: only the mask's box of the texture is made and augmented.
    const tex = augmentTexture(rng, createProceduralTexture(rng, region[2] - region[0], region[3] - region[1])).image;
    t.augmentation += performance.now() - t0;
    t0 = performance.now();
    rotateRgb(blendAnomaly(reference, tex, mask, 0.3, [region[0], region[1]]), 0.03, false, 1.02);
    t.blendWarp += performance.now() - t0;
  }
  return { t, reference };
}

async function timeEncode(n: number, reference: { data: Uint8Array; width: number; height: number }) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await encodeRawImage({ ...reference, channels: 3 }, 'png', { compressionLevel: 3 });
    await encodeRawImage({ data: new Uint8Array(SIZE * SIZE), width: SIZE, height: SIZE, channels: 1 }, 'png', { compressionLevel: 3 });
  }
  return performance.now() - t0;
}

async function runPool(plan: SynthesisPlan, jobs: number): Promise<number> {
  const pool = createPairPool(plan, jobs);
  // Warm-up outside the timing: worker start and the reference decode cache.
  await Promise.all(Array.from({ length: jobs }, (_, i) => pool.run(10_000 + i)));
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < pairs) await pool.run(next++);
  };
  await Promise.all(Array.from({ length: jobs * 2 }, lane));
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return pairs / seconds;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'differad-bench-synth-'));
  try {
    const normals = await makeNormals(dir, 4);
    const base = { outDir: join(dir, 'out'), size: SIZE, fit: 'cover' as const, foreground: { kind: 'otsu' as const } };
    const references = await Promise.all(normals.map((f, i) => prepareReference(f, i, base)));
    const plan: SynthesisPlan = {
      ...base,
      seed: 'bench',
      className: 'bench',
      references,
      textures: [],
      options: DEFAULT_SYNTHESIS_OPTIONS,
      format: 'png',
    };

    const stageRuns = quick ? 4 : 20;
    const { t, reference } = timeStages(stageRuns);
    const encodeMs = await timeEncode(stageRuns, reference);
    const one = await runPool(plan, 1);
    const two = await runPool(plan, 2);

    console.log(`bench/synth: ${pairs} pairs of ${SIZE}×${SIZE} per run, node ${process.version}`);
    console.log(`  1 job   ${one.toFixed(1).padStart(7)} pairs/s`);
    console.log(`  2 jobs  ${two.toFixed(1).padStart(7)} pairs/s   (×${(two / one).toFixed(2)} vs 1 job; goal ≥ 40 pairs/s on 2 cores)`);
    const per = (ms: number) => `${(ms / stageRuns).toFixed(1)} ms`;
    console.log(`  one anomalous pair, by stage (mean of ${stageRuns}, single thread):`);
    console.log(
      `    noise ${per(t.noise)} · components ${per(t.components)} · augmentation ${per(t.augmentation)} · blend + warp ${per(t.blendWarp)} · encode target + mask ${per(encodeMs)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
