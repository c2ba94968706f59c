import { createHash } from 'node:crypto';
import { computePolicyLogProb, createRng, formatPolicySample, type GaussianPolicy, parsePolicySample, samplePolicy } from '@differad/core';
import type { ContractSample } from '@differad/trainer-client';

/**
 * Completions in the CPU policy's convention (for tests): the sampled values
 * written in `<think>` with formatPolicySample, one token whose log-prob is
 * log π(sample) at temperature `temperature`, computed from the values as
 * written (6 decimals), which is what the trainer reads back.
 */
export function createCpuSample(policy: GaussianPolicy, count: number, seed: number | string = 1, temperature = 1): ContractSample {
  const rng = createRng(seed);
  const image = Buffer.from('not-a-real-png: the CPU trainer never decodes images');
  return {
    images: [{ sha256: createHash('sha256').update(image).digest('hex'), data: image.toString('base64'), media_type: 'image/png' }],
    messages: [
      { role: 'system', content: 'Answer with <think>…</think><answer>(x1,y1),(x2,y2)</answer>.' },
      {
        role: 'user',
        content: [
          { type: 'image', image: 0 },
          { type: 'text', text: 'Box the anomaly.' },
        ],
      },
    ],
    prompt_token_ids: null,
    completions: Array.from({ length: count }, () => {
      const text = `<think>detector ${formatPolicySample(samplePolicy(rng, policy, temperature))}</think><answer>(0,0),(0,0)</answer>`;
      const written = parsePolicySample(text, policy)!;
      return { text, token_ids: [0], logprobs: [computePolicyLogProb(policy, written, temperature)] };
    }),
  };
}
