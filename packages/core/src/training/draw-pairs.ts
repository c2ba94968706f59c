import { createRng } from '../random/rng.js';

/** A seeded permutation of 0..n−1 (Fisher–Yates). */
function permutation(seed: string, n: number): number[] {
  const rng = createRng(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The dataset indices of the `pairsPerStep` pairs of `step`: the data is
 * walked in a fresh seeded permutation per epoch, so every pair is seen once
 * per epoch and any step's pairs can be recomputed (resume, retries).
 */
export function drawStepPairs(seed: number, step: number, pairsPerStep: number, datasetSize: number): number[] {
  if (datasetSize < 1) throw new RangeError('the training manifest is empty');
  const out: number[] = [];
  let cachedEpoch = -1;
  let perm: number[] = [];
  for (let k = 0; k < pairsPerStep; k++) {
    const g = step * pairsPerStep + k;
    const epoch = Math.floor(g / datasetSize);
    if (epoch !== cachedEpoch) {
      perm = permutation(`${seed}/epoch/${epoch}`, datasetSize);
      cachedEpoch = epoch;
    }
    out.push(perm[g % datasetSize]!);
  }
  return out;
}

/** A fresh pair for the `index`-th replacement of a step (DAPO-style dynamic sampling). */
export function drawReplacementPair(seed: number, step: number, index: number, datasetSize: number): number {
  return createRng(`${seed}/replace/${step}/${index}`).int(0, datasetSize - 1);
}

/** The sampling seed of one group request: distinct per (run seed, step, pair slot, attempt). */
export function toSamplingSeed(seed: number, step: number, pairIndex: number, attempt: number): number {
  return createRng(`${seed}/sample/${step}/${pairIndex}/${attempt}`).int(0, 0x7fff_ffff);
}
