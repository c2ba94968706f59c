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

  it("after an optimizer step, the folder the trainer's disk send wrote is what vLLM serves: the log-probs agree again", async () => {
    const sampled = await completePair(live, { n: 8, temperature: TEMPERATURE, seed: 9, maxTokens: 32 });
    const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(`${trainer.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      expect(res.status, `${path}: ${text}`).toBe(200);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const fb = await post('/v1/forward_backward', {
      run: 'live-agreement',
      step: 0,
      micro_batch: 0,
      micro_batches: 1,
      loss: {
        clip_low: 0.2,
        clip_high: 0.2,
        beta: 0,
        normalization: 'sequence',
        mask_truncated: false,
        temperature: TEMPERATURE,
        step_sequences: 8,
      },
      groups: [
        {
          ...toTrainerPair(),
          prompt_token_ids: sampled.prompt_token_ids,
          completions: sampled.choices.map((c, i) => ({
            text: c.message.content,
            token_ids: c.token_ids,
            sampling_logprobs: c.logprobs.content.map((t) => t.logprob),
            advantage: i % 2 === 0 ? 1 : -1,
            weight: 1,
            truncated: c.finish_reason === 'length',
          })),
        },
      ],
    });
    expect(fb).toMatchObject({ prompt_tokens_match: true, sequences: 8 });
    // A large step, so the new weights answer visibly otherwise.
    expect(await post('/v1/optim_step', { run: 'live-agreement', step: 0, lr: 0.01 })).toMatchObject({ applied: true, weight_version: 1 });
    const sent = await post('/v1/weights/send', { version: 1, backend: 'disk' });
    await syncWeights([{ url: live.url, control }], { version: 1, path: String(sent.path) });

    const moved = compare(sampled, await scoreOnTrainer(trainer, sampled, TEMPERATURE));
    const resampled = await completePair(live, { n: 8, temperature: TEMPERATURE, seed: 9, maxTokens: 32 });
    const scored = await scoreOnTrainer(trainer, resampled, TEMPERATURE);
    expect(scored.weight_version).toBe(1);
    const agreement = compare(resampled, scored);
    console.log(
      `after one step (lr 0.01): trainer vs the old samples' log-probs mean |Δ| ${moved.mean.toFixed(4)}; vLLM after the disk sync vs the trainer: mean |Δ| ${agreement.mean.toFixed(5)}, max ${agreement.max.toFixed(4)}`,
    );
    expect(moved.mean).toBeGreaterThan(10 * MEAN_TOLERANCE);
    expect(agreement.mean).toBeLessThan(MEAN_TOLERANCE);
  });
});
