import { createRng } from '../random/rng.js';

/**
 * The permutations made last, newest first. A step's draw, its lookahead and
 * every slot's decision ask for the same epoch's permutation, an O(n) shuffle
 * each (~2 ms at 100,000 pairs, ~10 times a step): made once, it is read
 * from here. Three: the epoch's, the next one's at an epoch boundary, and
 * a step's replacement order. 4 bytes a pair each.
 */
const recent: { readonly key: string; readonly order: Uint32Array }[] = [];
const KEPT = 3;

/** A seeded permutation of 0..n−1 (Fisher–Yates); shared, never to be written. */
function permutation(seed: string, n: number): Uint32Array {
  const key = `${n}:${seed}`;
  const at = recent.findIndex((e) => e.key === key);
  if (at >= 0) {
    const [hit] = recent.splice(at, 1);
    recent.unshift(hit!);
    return hit!.order;
  }
  const rng = createRng(seed);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  recent.unshift({ key, order });
  if (recent.length > KEPT) recent.pop();
  return order;
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
  let perm: Uint32Array = new Uint32Array(0);
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

/** Where a replacement is drawn: the step, its slot and what that slot has had. */
export interface ReplacementDraw {
  readonly seed: number;
  readonly step: number;
  /** The dataset indices of the step's pairs (drawStepPairs). */
  readonly stepPairs: readonly number[];
  readonly slot: number;
  /** The pairs this slot has had so far: its drawn pair, then each replacement (the exhausted pair last). */
  readonly previous: readonly number[];
  /** Replacements one slot may draw; each slot starts this far apart from the next in the candidate order. */
  readonly perSlot: number;
  readonly datasetSize: number;
}

/**
 * A fresh pair for a slot whose pair was exhausted (DAPO-style dynamic
 * sampling), or null when no pair is left to draw. The candidates are the
 * pairs not drawn for the step, in a seeded order per (seed, step); slot k
 * reads them from position k·perSlot on, skipping pairs it has had. So a
 * replacement is never the exhausted pair nor a pair of the step, two slots
 * never draw the same pair while the dataset holds perSlot candidates per
 * slot, and the draw depends on nothing but its inputs (not on which other
 * slot finished first).
 */
export function drawReplacementPair(draw: ReplacementDraw): number | null {
  const taken = new Set(draw.stepPairs);
  const candidates = permutation(`${draw.seed}/replace/${draw.step}`, draw.datasetSize).filter((i) => !taken.has(i));
  const had = new Set(draw.previous);
  const start = candidates.length === 0 ? 0 : (draw.slot * draw.perSlot) % candidates.length;
  for (let k = 0; k < candidates.length; k++) {
    const pick = candidates[(start + k) % candidates.length]!;
    if (!had.has(pick)) return pick;
  }
  return null;
}

/** The sampling seed of one group request: distinct per (run seed, step, pair slot, attempt). */
export function toSamplingSeed(seed: number, step: number, pairIndex: number, attempt: number): number {
  return createRng(`${seed}/sample/${step}/${pairIndex}/${attempt}`).int(0, 0x7fff_ffff);
}
