import { computeDifficultyWeight } from '@differad/core';
import type { ChatMessage, ForwardBackwardRequest, Group, LossConfig, TrainerImage } from '../api/forward-backward.js';

/** A completion the trainer under test can score, with its per-token log-probs under the trainer's starting weights (T = 1). */
export interface ContractCompletion {
  readonly text: string;
  readonly token_ids: readonly number[];
  /** log π_θ₀ of each token under the trainer's weights at start, temperature 1. */
  readonly logprobs: readonly number[];
}

/** What a trainer under test is asked about: one prompt and at least 9 completions of it. */
export interface ContractSample {
  readonly images: readonly TrainerImage[];
  readonly messages: readonly ChatMessage[];
  readonly prompt_token_ids: readonly number[] | null;
  readonly completions: readonly ContractCompletion[];
}

/** The run id every contract request uses. */
export const CONTRACT_RUN = 'contract-run';

/**
 * The reference group of docs/method.md §5.5 (G = 8): R_loc, its advantages (unbiased std,
 * R = R_fmt + R_loc) and the ratios the hand-computed case imposes. With
 * ε = 0.2: min(rA, clip(r)A) = .937476, .747010 (clipped), .101276,
 * −1.209816 (clipped), .993115, −.16491, −1.965951, .471673 → Σ = −.090127;
 * w = ½(e^(1−.484634) + √1.375) = 1.423427; L = −w·Σ/8 = 0.016036;
 * clip fraction 2/8.
 */
export const METHOD_GROUP = Object.freeze({
  rLoc: Object.freeze([1, 0.742857, 0.4, 0, 0.971716, 0.1, 0, 0.6625]),
  advantages: Object.freeze([0.937476, 0.622508, 0.202552, -1.51227, 0.902832, -0.16491, -1.51227, 0.524081]),
  ratios: Object.freeze([1.0, 1.5, 0.5, 0.5, 1.1, 1.0, 1.3, 0.9]),
  expectedLoss: 0.016036,
  expectedClipFraction: 0.25,
});

/** w of the reference group of docs/method.md §5.5 (1.423427). */
export const METHOD_GROUP_WEIGHT = computeDifficultyWeight(METHOD_GROUP.rLoc);

/** The loss settings of the contract: the paper's defaults (ε = 0.2, β = 0). */
export const CONTRACT_LOSS: LossConfig = Object.freeze({
  clip_low: 0.2,
  clip_high: 0.2,
  beta: 0,
  normalization: 'sequence',
  mask_truncated: true,
  temperature: 1,
});

/** How each completion of a contract group is used. */
export interface ContractTerm {
  readonly advantage: number;
  /** The ratio π_θ₀/π_sampling imposed on each of its tokens (sampling log-probs = log π_θ₀ − log r). */
  readonly ratio: number;
  readonly truncated?: boolean;
}

/** A group of the sample's completions with the given advantages, ratios and weight. */
export function toContractGroup(sample: ContractSample, terms: readonly ContractTerm[], weight = METHOD_GROUP_WEIGHT): Group {
  if (terms.length > sample.completions.length)
    throw new RangeError(`the sample has ${sample.completions.length} completions, ${terms.length} needed`);
  return {
    pair_id: 'contract-pair',
    images: [...sample.images],
    messages: [...sample.messages],
    prompt_token_ids: sample.prompt_token_ids ? [...sample.prompt_token_ids] : null,
    completions: terms.map((t, i) => {
      const c = sample.completions[i]!;
      return {
        text: c.text,
        token_ids: [...c.token_ids],
        sampling_logprobs: c.logprobs.map((lp) => lp - Math.log(t.ratio)),
        advantage: t.advantage,
        weight,
        truncated: t.truncated ?? false,
      };
    }),
  };
}

/** The terms of the docs/method.md §5.5 group, optionally followed by one truncated completion that the loss must leave out. */
export function toMethodTerms(withTruncated: boolean): ContractTerm[] {
  const terms: ContractTerm[] = METHOD_GROUP.advantages.map((advantage, i) => ({ advantage, ratio: METHOD_GROUP.ratios[i]! }));
  return withTruncated ? [...terms, { advantage: 5, ratio: 1, truncated: true }] : terms;
}

/** A forward_backward request of the contract run. */
export function toContractRequest(input: {
  step: number;
  microBatch?: number;
  microBatches?: number;
  groups: readonly Group[];
  loss?: Partial<LossConfig>;
  run?: string;
}): ForwardBackwardRequest {
  return {
    run: input.run ?? CONTRACT_RUN,
    step: input.step,
    micro_batch: input.microBatch ?? 0,
    micro_batches: input.microBatches ?? 1,
    loss: { ...CONTRACT_LOSS, ...input.loss },
    groups: [...input.groups],
  };
}

/**
 * The expected loss and clip fraction of one group under docs/method.md §6, computed
 * independently of any trainer: every token of completion i has ratio rᵢ, so
 * its per-token loss is −w·min(rᵢAᵢ, clip(rᵢ)Aᵢ); `sequence` averages the
 * per-completion means, `token` averages over all tokens.
 */
export function computeExpectedLoss(
  terms: readonly ContractTerm[],
  lengths: readonly number[],
  weight: number,
  loss: LossConfig,
): { loss: number; clipFraction: number; sequences: number; tokens: number } {
  let seqSum = 0;
  let tokSum = 0;
  let tokens = 0;
  let clippedTokens = 0;
  let sequences = 0;
  terms.forEach((t, i) => {
    if (t.truncated && loss.mask_truncated) return;
    const n = lengths[i]!;
    const bounded = Math.min(1 + loss.clip_high, Math.max(1 - loss.clip_low, t.ratio));
    const perToken = -weight * Math.min(t.ratio * t.advantage, bounded * t.advantage);
    const clipped = (t.advantage > 0 && t.ratio > 1 + loss.clip_high) || (t.advantage < 0 && t.ratio < 1 - loss.clip_low);
    seqSum += perToken;
    tokSum += perToken * n;
    tokens += n;
    sequences += 1;
    if (clipped) clippedTokens += n;
  });
  const value = loss.normalization === 'sequence' ? seqSum / Math.max(1, sequences) : tokSum / Math.max(1, tokens);
  return { loss: value, clipFraction: tokens > 0 ? clippedTokens / tokens : 0, sequences, tokens };
}
