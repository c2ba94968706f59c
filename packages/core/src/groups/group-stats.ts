/** Group statistics of docs/method.md §5, for the G completions of one image pair. */

export const ADVANTAGE_MODES = ['unbiased', 'population', 'none'] as const;
export type AdvantageMode = (typeof ADVANTAGE_MODES)[number];

export const EXHAUSTED_POLICIES = ['keep', 'replace'] as const;
export type ExhaustedPolicy = (typeof EXHAUSTED_POLICIES)[number];

export type ResampleDecision = 'resample' | 'keep' | 'replace';

export function computeMean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Standard deviation: unbiased (N−1) or population (N); 0 for fewer than two values. */
export function computeStd(values: readonly number[], mode: 'unbiased' | 'population' = 'unbiased'): number {
  const n = values.length;
  if (n < 2) return 0;
  const mean = computeMean(values);
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return Math.sqrt(ss / (mode === 'unbiased' ? n - 1 : n));
}

/** A_i = (R_i − mean(R)) / (std(R) + ε), or R_i − mean(R) with mode `none`. */
export function computeAdvantages(rewards: readonly number[], options: { mode?: AdvantageMode; epsilon?: number } = {}): number[] {
  const mode = options.mode ?? 'unbiased';
  const epsilon = options.epsilon ?? 1e-4;
  const mean = computeMean(rewards);
  if (mode === 'none') return rewards.map((r) => r - mean);
  const scale = computeStd(rewards, mode) + epsilon;
  return rewards.map((r) => (r - mean) / scale);
}

/**
 * Difficulty weight w = ½·(exp(1 − mean(R_loc)) + sqrt(1 + p_miss)), with
 * p_miss the share of the group whose R_loc is below τ. Range ≈ [1, 2.066].
 */
export function computeDifficultyWeight(locRewards: readonly number[], options: { tau?: number } = {}): number {
  const tau = options.tau ?? 0.3;
  if (locRewards.length === 0) return 1;
  const misses = locRewards.filter((r) => r < tau).length;
  const pMiss = misses / locRewards.length;
  return 0.5 * (Math.exp(1 - computeMean(locRewards)) + Math.sqrt(1 + pMiss));
}

/**
 * A group teaches nothing and is worth resampling when its localization
 * rewards do not vary, unless some member is fully correct (R_loc = 1).
 */
export function isDegenerateGroup(locRewards: readonly number[], options: { stdThreshold?: number } = {}): boolean {
  const threshold = options.stdThreshold ?? 1e-6;
  if (locRewards.some((r) => r === 1)) return false;
  return computeStd(locRewards) < threshold;
}

/**
 * What to do with a scored group: resample a degenerate group while fewer
 * than `maxResamples` extra rounds were made, then `keep` (zero advantages) or
 * `replace` (draw a fresh pair) per policy. `resamplesDone` counts extra rounds
 * already sampled for this pair (0 after the first sampling).
 */
export function decideResample(input: {
  degenerate: boolean;
  resamplesDone: number;
  maxResamples: number;
  onExhausted: ExhaustedPolicy;
}): ResampleDecision {
  if (!input.degenerate) return 'keep';
  if (input.resamplesDone < input.maxResamples) return 'resample';
  return input.onExhausted;
}
