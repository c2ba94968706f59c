import { computePolicyLogProb, DEFAULT_CPU_POLICY, formatPolicySample } from '@differad/core';
import { ScoreTokensResponseSchema } from '@differad/trainer-client';
import { describe, expect, it } from 'vitest';
import { scoreTokens } from './score-tokens.js';

const request = (texts: string[], temperature: number) => ({
  temperature,
  images: [],
  messages: [{ role: 'user' as const, content: 'x' }],
  prompt_token_ids: null,
  completions: texts.map((text) => ({ text, token_ids: [5, 6, 7] })),
});

describe('CPU trainer score_tokens', () => {
  it("puts the sample's log-prob at the temperature on the first token, 0 on the rest, and null for text without a sample", () => {
    const sample = { threshold: 0.2, blur: 1.1, min_area: -3, tolerance: 1.2, pad: 2.5 };
    const text = `<think>${formatPolicySample(sample)}</think><answer>none</answer>`;
    const reply = scoreTokens(request([text, 'no sample here'], 0.9), DEFAULT_CPU_POLICY);
    expect(ScoreTokensResponseSchema.parse(reply)).toEqual(reply);
    const want = computePolicyLogProb(DEFAULT_CPU_POLICY, sample, 0.9);
    expect(reply.logprobs).toEqual([[want, 0, 0], null]);
    expect(want).not.toBeCloseTo(computePolicyLogProb(DEFAULT_CPU_POLICY, sample, 1), 3);
    expect(reply).toMatchObject({ weight_version: 0, prompt_tokens_match: null });
  });
});
