/**
 * The image-pair chat the live tests send to vLLM (a reference and a target with a dark
 * patch, as differad's prompts put them) and the same chat as the trainer API takes it.
 */
import { createHash } from 'node:crypto';
import { createPngDataUrl } from '@differad/testing';
import { expect } from 'vitest';
import type { LiveVllmInfo } from './vllm-server.js';

const SYSTEM = 'Answer with <think>…</think><answer>(x1,y1),(x2,y2)</answer>.';
const INSTRUCTION = 'Compare the target with the reference and box the anomaly.';

/** The two 64×64 PNGs as data URLs: reference first, target second. */
export const PAIR_IMAGES = [
  createPngDataUrl({ width: 64, height: 64, color: [180, 180, 170] }),
  createPngDataUrl({ width: 64, height: 64, color: [180, 180, 170], patch: [20, 24, 32, 36], patchColor: [40, 30, 30] }),
] as const;

/** The chat messages of the pair, OpenAI style; `system` replaces the system prompt. */
export function toPairMessages(system = SYSTEM): unknown[] {
  return [
    { role: 'system', content: system },
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: PAIR_IMAGES[0] } },
        { type: 'image_url', image_url: { url: PAIR_IMAGES[1] } },
        { type: 'text', text: INSTRUCTION },
      ],
    },
  ];
}

/** The same chat as the trainer API's `messages` and `images` (images by index, bytes with their hash). */
export function toTrainerPair(): { messages: unknown[]; images: { sha256: string; data: string; media_type: 'image/png' }[] } {
  const images = PAIR_IMAGES.map((url) => {
    const data = url.slice(url.indexOf(',') + 1);
    return { sha256: createHash('sha256').update(Buffer.from(data, 'base64')).digest('hex'), data, media_type: 'image/png' as const };
  });
  const messages = [
    { role: 'system', content: SYSTEM },
    {
      role: 'user',
      content: [
        { type: 'image', image: 0 },
        { type: 'image', image: 1 },
        { type: 'text', text: INSTRUCTION },
      ],
    },
  ];
  return { messages, images };
}

/** A choice of vLLM's answer with `logprobs` and `return_token_ids`. */
export interface PairChoice {
  readonly index: number;
  readonly finish_reason: string;
  readonly token_ids: number[];
  readonly message: { content: string };
  readonly logprobs: { content: { logprob: number }[] };
}

/** vLLM's answer to {@link completePair}. */
export interface PairCompletion {
  readonly prompt_token_ids: number[];
  readonly choices: PairChoice[];
}

/** `POST /v1/chat/completions` of the pair with log-probs and token ids. */
export async function completePair(
  live: LiveVllmInfo,
  sampling: { n: number; temperature: number; seed?: number; maxTokens: number; system?: string },
): Promise<PairCompletion> {
  const res = await fetch(`${live.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: live.model,
      messages: toPairMessages(sampling.system),
      n: sampling.n,
      seed: sampling.seed,
      temperature: sampling.temperature,
      top_p: 1,
      top_k: -1,
      max_tokens: sampling.maxTokens,
      logprobs: true,
      return_token_ids: true,
    }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as PairCompletion;
}
