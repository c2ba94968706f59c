import {
  computeGrpoGaussianLoss,
  type GaussianLossResult,
  type GaussianLossSample,
  type GaussianPolicy,
  parsePolicySample,
} from '@differad/core';
import { completionTokens, type ForwardBackwardRequest } from '@differad/trainer-client';

/** One micro-batch scored by the CPU policy: the loss over its scorable completions and what was left out. */
export interface ScoredMicroBatch extends GaussianLossResult {
  readonly truncated: number;
  readonly unscorable: number;
}

/**
 * Turns a forward_backward request into Gaussian loss samples and scores them.
 * Conventions of the CPU policy:
 * - the sampled parameter values are read back from the completion text
 *   (the CPU policy server writes them in `<think>` with formatPolicySample);
 *   a completion whose values are missing is masked out and counted as unscorable;
 * - log π_sampling is the sum of `sampling_logprobs` (arrays or packed; the CPU policy server
 *   sends the whole sample's log-prob as one token's);
 * - a completion is one action, so `sequence` and `token` normalization are
 *   the same mean over scored completions;
 * - truncated completions are masked when `mask_truncated`.
 */
export function scoreMicroBatch(request: ForwardBackwardRequest, policy: GaussianPolicy, reference: GaussianPolicy): ScoredMicroBatch {
  const samples: GaussianLossSample[] = [];
  let truncated = 0;
  let unscorable = 0;
  for (const group of request.groups) {
    for (const c of group.completions) {
      if (c.truncated && request.loss.mask_truncated) {
        truncated += 1;
        continue;
      }
      const sample = parsePolicySample(c.text, policy);
      if (!sample) {
        unscorable += 1;
        continue;
      }
      const samplingLogProb = completionTokens(c).sampling_logprobs.reduce((a, b) => a + b, 0);
      samples.push({ sample, samplingLogProb, advantage: c.advantage, weight: c.weight });
    }
  }
  const { loss } = request;
  const result = computeGrpoGaussianLoss({
    policy,
    reference,
    samples,
    config: { clipLow: loss.clip_low, clipHigh: loss.clip_high, beta: loss.beta, temperature: loss.temperature },
  });
  return { ...result, truncated, unscorable };
}
