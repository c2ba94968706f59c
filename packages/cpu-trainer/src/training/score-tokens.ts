import { computePolicyLogProb, type GaussianPolicy, parsePolicySample } from '@differad/core';
import type { ScoreTokensRequest, ScoreTokensResponse } from '@differad/trainer-client';

/**
 * `score_tokens` for the CPU policy: each completion's sample is read back
 * from its text (as forward_backward does) and scored under `policy` at the
 * request's temperature; the whole log-prob goes on the first token and 0 on
 * the rest, the CPU policy server's convention, so the lists compare token by
 * token with its sampling log-probs. A completion without a readable sample is
 * null. Prompts are not tokenized by the CPU policy: `prompt_tokens_match` is null.
 */
export function scoreTokens(request: ScoreTokensRequest, policy: GaussianPolicy): ScoreTokensResponse {
  const logprobs = request.completions.map((c) => {
    const sample = parsePolicySample(c.text, policy);
    if (sample === null) return null;
    const total = computePolicyLogProb(policy, sample, request.temperature);
    return c.token_ids.map((_, k) => (k === 0 ? total : 0));
  });
  return { weight_version: policy.version, prompt_tokens_match: null, logprobs };
}
