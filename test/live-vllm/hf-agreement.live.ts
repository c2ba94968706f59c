// The Python trainer's hf backend (real transformers 5.19, docker/trainer policy/hf.py) scores the
// tokens the real vLLM sampled, on the same checkpoint: its log-probs at logits / T must agree with
// vLLM's processed log-probs (the GRPO ratio's denominator, docs/method.md §6). What would break it:
// vLLM's default raw_logprobs mode (before temperature), other processor pixel bounds (other image
// tokens: the prompt check fails), mm_token_type_ids lost when batching n completions (1-D rope
// positions instead of M-RoPE), or other rope positions for the two images.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVllmControl, type VllmControl } from '@differad/inference';
import { syncWeights } from '@differad/orchestrator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type HfTrainer, startHfTrainer } from './hf-trainer.js';
import { completePair, type PairCompletion, toTrainerPair } from './pair-chat.js';

const live = inject('liveVllm');
const TEMPERATURE = 0.9;
/** Mean |Δ log-prob| per token allowed: bf16 weights and activations in both, different kernels (oneDNN vs PyTorch SDPA). */
const MEAN_TOLERANCE = 0.03;

interface Scored {
  readonly weight_version: number;
  readonly prompt_tokens_match: boolean | null;
  readonly logprobs: (number[] | null)[];
}

async function scoreOnTrainer(trainer: HfTrainer, sampled: PairCompletion, temperature: number): Promise<Scored> {
  const res = await fetch(`${trainer.url}/v1/score_tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      temperature,
      ...toTrainerPair(),
      prompt_token_ids: sampled.prompt_token_ids,
      completions: sampled.choices.map((c) => ({ text: c.message.content, token_ids: c.token_ids })),
    }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Scored;
}

/** Mean and max |Δ| per token between vLLM's sampling log-probs and the trainer's, over every completion. */
function compare(sampled: PairCompletion, scored: Scored): { mean: number; max: number; tokens: number } {
  let sum = 0;
  let max = 0;
  let tokens = 0;
  sampled.choices.forEach((c, i) => {
    const mine = scored.logprobs[i];
    expect(mine, `completion ${i} was not scored`).not.toBeNull();
    expect(mine).toHaveLength(c.token_ids.length);
    c.logprobs.content.forEach(({ logprob }, t) => {
      const d = Math.abs(logprob - mine![t]!);
      sum += d;
      max = Math.max(max, d);
      tokens += 1;
    });
  });
  return { mean: sum / tokens, max, tokens };
}

describe('live vLLM and the hf trainer on the same checkpoint', () => {
  let control: VllmControl;
  let trainer: HfTrainer;
  let stateDir: string;

  beforeAll(async () => {
    control = createVllmControl({ url: live.url, timeoutMs: 120_000 });
    // Another file may have left other weights on the shared server.
    await syncWeights([{ url: live.url, control }], { version: 0, path: live.checkpoint });
    stateDir = mkdtempSync(join(tmpdir(), 'differad-live-hf-'));
    trainer = await startHfTrainer(live, stateDir);
    console.log(`hf trainer (transformers, CPU): ready in ${trainer.startupMs} ms`);
  }, 400_000);

  afterAll(async () => {
    await trainer?.stop();
    await syncWeights([{ url: live.url, control }], { version: 0, path: live.checkpoint }).catch(() => undefined);
    await control?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("scores vLLM's 8 sampled completions of a two-image prompt with the same prompt tokens and log-probs within tolerance", async () => {
    const sampled = await completePair(live, { n: 8, temperature: TEMPERATURE, seed: 7, maxTokens: 32 });
    expect(sampled.choices).toHaveLength(8);
    const t0 = performance.now();
    const scored = await scoreOnTrainer(trainer, sampled, TEMPERATURE);
    const scoreMs = performance.now() - t0;
    // The processor (same pixel bounds) expands both images to the same number of image tokens as vLLM.
    expect(scored.prompt_tokens_match).toBe(true);
    expect(scored.weight_version).toBe(0);
    const agreement = compare(sampled, scored);
    console.log(
      `hf trainer vs vLLM log-probs at T=${TEMPERATURE}: mean |Δ| ${agreement.mean.toFixed(5)}, max |Δ| ${agreement.max.toFixed(4)} over ${agreement.tokens} tokens (score_tokens ${scoreMs.toFixed(0)} ms)`,
    );
    expect(agreement.tokens).toBeGreaterThan(8);
    expect(agreement.mean).toBeLessThan(MEAN_TOLERANCE);
  });

  it('is far off when the server samples from other weights, so the tolerance tells the two apart', async () => {
    await syncWeights([{ url: live.url, control }], { version: 1, path: live.otherCheckpoint });
    const sampled = await completePair(live, { n: 8, temperature: TEMPERATURE, seed: 7, maxTokens: 32 });
    await syncWeights([{ url: live.url, control }], { version: 0, path: live.checkpoint });
    const scored = await scoreOnTrainer(trainer, sampled, TEMPERATURE);
    expect(scored.prompt_tokens_match).toBe(true);
    const off = compare(sampled, scored);
    console.log(`hf trainer (seed 0) vs vLLM serving seed 1: mean |Δ| ${off.mean.toFixed(4)}`);
    expect(off.mean).toBeGreaterThan(10 * MEAN_TOLERANCE);
  });
});
