// What GRPO sampling asks of vLLM, on the wire: a reference and a target image in one chat,
// n completions from one seed, per-token log-probs and the token ids of prompt and completions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPngDataUrl } from '@differad/testing';
import { describe, expect, inject, it } from 'vitest';

const live = inject('liveVllm');
const tiny = JSON.parse(readFileSync(join(live.checkpoint, 'differad-tiny.json'), 'utf8')) as {
  special_token_ids: Record<string, number>;
};
const IMAGE_PAD = tiny.special_token_ids['<|image_pad|>']!;
const VISION_START = tiny.special_token_ids['<|vision_start|>']!;
// 64×64 → 56×56 (multiples of 28) → 4×4 patches of 14 → 2×2 merged tokens.
const TOKENS_PER_64PX_IMAGE = 4;

interface Choice {
  index: number;
  finish_reason: string;
  token_ids: number[];
  logprobs: { content: { logprob: number }[] };
}
interface Completion {
  prompt_token_ids: number[];
  choices: Choice[];
  usage: { prompt_tokens: number; completion_tokens: number };
}

async function complete(seed: number, n = 8): Promise<{ body: Completion; ms: number }> {
  // The contract's pair: a 64×64 reference and a target with a 12×12 dark patch.
  const referenceImage = createPngDataUrl({ width: 64, height: 64, color: [180, 180, 170] });
  const targetImage = createPngDataUrl({
    width: 64,
    height: 64,
    color: [180, 180, 170],
    patch: [20, 24, 32, 36],
    patchColor: [40, 30, 30],
  });
  const started = performance.now();
  const res = await fetch(`${live.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: live.model,
      messages: [
        { role: 'system', content: 'Answer with <think>…</think><answer>(x1,y1),(x2,y2)</answer>.' },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: referenceImage } },
            { type: 'image_url', image_url: { url: targetImage } },
            { type: 'text', text: 'Compare the target with the reference and box the anomaly.' },
          ],
        },
      ],
      n,
      seed,
      temperature: 0.9,
      top_p: 1,
      max_tokens: 48,
      logprobs: true,
      return_token_ids: true,
    }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return { body: JSON.parse(text) as Completion, ms: performance.now() - started };
}

describe('live vLLM: two images, n=8, seeded', () => {
  it('puts both images in the prompt and returns 8 completions with token ids and log-probs', async () => {
    const first = await complete(11);
    const warm = await complete(11);
    console.log(
      `live vLLM: server start ${live.startupMs} ms; 2 images, n=8, 48 tokens: first request ${first.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms`,
    );

    const prompt = first.body.prompt_token_ids;
    expect(prompt.filter((id) => id === VISION_START)).toHaveLength(2);
    expect(prompt.filter((id) => id === IMAGE_PAD)).toHaveLength(2 * TOKENS_PER_64PX_IMAGE);
    expect(first.body.usage.prompt_tokens).toBe(prompt.length);

    expect(first.body.choices.map((c) => c.index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const c of first.body.choices) {
      expect(['stop', 'length']).toContain(c.finish_reason);
      expect(c.token_ids.length).toBeGreaterThan(0);
      expect(c.logprobs.content).toHaveLength(c.token_ids.length);
      for (const { logprob } of c.logprobs.content) {
        expect(Number.isFinite(logprob)).toBe(true);
        expect(logprob).toBeLessThanOrEqual(0);
      }
    }
    expect(first.body.usage.completion_tokens).toBe(first.body.choices.reduce((a, c) => a + c.token_ids.length, 0));
    // The 8 samples differ from one another, and the same seed gives the same 8 again.
    expect(new Set(first.body.choices.map((c) => c.token_ids.join(','))).size).toBeGreaterThan(1);
    expect(warm.body.choices.map((c) => c.token_ids)).toEqual(first.body.choices.map((c) => c.token_ids));
  });

  it('samples something else from another seed', async () => {
    const a = await complete(11, 2);
    const b = await complete(12, 2);
    expect(b.body.choices.map((c) => c.token_ids)).not.toEqual(a.body.choices.map((c) => c.token_ids));
  });
});
