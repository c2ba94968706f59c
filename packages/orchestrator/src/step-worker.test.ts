import { TrainConfigSchema } from '@differad/config';
import { DifferadError } from '@differad/core';
import { completionTokens, type ForwardBackwardRequest, type ForwardBackwardResponse, type Group } from '@differad/trainer-client';
import { describe, expect, it } from 'vitest';
import type { RunContext } from './run-context.js';
import { planStepRequests, sendMicroBatch } from './step-worker.js';

const REPLY: ForwardBackwardResponse = {
  run: 'r',
  step: 0,
  micro_batch: 0,
  duplicate: false,
  loss: 0,
  clip_fraction: 0,
  kl: null,
  sequences: 1,
  tokens: 1,
  masked: { truncated: 0, unscorable: 0 },
  prompt_tokens_match: null,
};

function group(hash: string): Group {
  return {
    images: [{ sha256: hash.repeat(64).slice(0, 64), data: 'AAAA', media_type: 'image/png' }],
    messages: [{ role: 'user', content: 'x' }],
    prompt_token_ids: null,
    completions: [{ text: 't', token_ids: [1], sampling_logprobs: [-1], advantage: 0, weight: 1, truncated: false }],
  };
}

/** A trainer that remembers images like the Python trainer does, and can forget them (a restart). */
function fakeTrainer() {
  const cache = new Set<string>();
  const sent: ForwardBackwardRequest[] = [];
  return {
    cache,
    sent,
    async forwardBackward(request: ForwardBackwardRequest): Promise<ForwardBackwardResponse> {
      sent.push(request);
      const missing = request.groups.flatMap((g) => g.images).filter((im) => im.data === undefined && !cache.has(im.sha256));
      if (missing.length > 0) {
        throw new DifferadError('TRAINER_REJECTED', 'rejected (HTTP 409 TRAINER_IMAGE_UNKNOWN)', {
          details: { status: 409, error: { code: 'TRAINER_IMAGE_UNKNOWN', message: 'unknown', details: {} } },
        });
      }
      for (const im of request.groups.flatMap((g) => g.images)) cache.add(im.sha256);
      return REPLY;
    },
  };
}

const request = {
  run: 'r',
  step: 0,
  micro_batch: 0,
  micro_batches: 1,
  loss: { clip_low: 0.2, clip_high: 0.2, beta: 0, normalization: 'sequence' as const, mask_truncated: true, temperature: 1 },
};

describe('sendMicroBatch', () => {
  it('sends image bytes once, then only hashes, and resends bytes after the trainer forgot them', async () => {
    const trainer = fakeTrainer();
    const ctx = { trainer, imagesAtTrainer: new Set<string>() } as unknown as RunContext;
    await sendMicroBatch(ctx, request, [group('a')]);
    expect(trainer.sent[0]!.groups[0]!.images[0]!.data).toBe('AAAA');
    await sendMicroBatch(ctx, { ...request, step: 1 }, [group('a')]);
    expect(trainer.sent[1]!.groups[0]!.images[0]!.data).toBeUndefined();

    trainer.cache.clear(); // the trainer restarted
    await sendMicroBatch(ctx, { ...request, step: 2 }, [group('a')]);
    expect(trainer.sent).toHaveLength(4);
    expect(trainer.sent[2]!.groups[0]!.images[0]!.data).toBeUndefined();
    expect(trainer.sent[3]!.groups[0]!.images[0]!.data).toBe('AAAA');
  });

  it('packs token ids and log-probs for a trainer with packed_completions, the resend after a restart too, and sends arrays otherwise', async () => {
    const trainer = fakeTrainer();
    const ctx = { trainer, imagesAtTrainer: new Set<string>() } as unknown as RunContext;
    const long: Group = {
      ...group('c'),
      completions: [
        { text: 't', token_ids: [3, 0, 151_643], sampling_logprobs: [-0.25, -0, -12.5], advantage: 0.5, weight: 2, truncated: true },
      ],
    };
    await sendMicroBatch(ctx, request, [long]);
    expect(trainer.sent[0]!.groups[0]!.completions[0]).toEqual(long.completions[0]);

    trainer.cache.clear();
    await sendMicroBatch(ctx, { ...request, step: 1 }, [long], true);
    expect(trainer.sent).toHaveLength(3);
    for (const sent of trainer.sent.slice(1)) {
      const c = sent.groups[0]!.completions[0]!;
      expect(Object.keys(c).sort()).toEqual(['advantage', 'packed', 'text', 'truncated', 'weight']);
      expect(completionTokens(c)).toEqual({ token_ids: [3, 0, 151_643], sampling_logprobs: [-0.25, -0, -12.5] });
      expect(c).toMatchObject({ text: 't', advantage: 0.5, weight: 2, truncated: true });
    }
    expect(trainer.sent[2]!.groups[0]!.images[0]!.data).toBe('AAAA');
  });

  it('passes other rejections through', async () => {
    const ctx = {
      trainer: {
        forwardBackward: async () =>
          Promise.reject(new DifferadError('TRAINER_REJECTED', 'conflict', { details: { error: { code: 'TRAINER_RUN_CONFLICT' } } })),
      },
      imagesAtTrainer: new Set<string>(),
    } as unknown as RunContext;
    await expect(sendMicroBatch(ctx, request, [group('b')])).rejects.toThrow('conflict');
  });
});

describe('planStepRequests', () => {
  /** Five groups of 3 completions with 2, 3 and 7 tokens, the last one truncated. */
  const groups = ['a', 'b', 'c', 'd', 'e'].map((h) => ({
    ...group(h),
    completions: [2, 3, 7].map((n, i) => ({
      text: 't',
      token_ids: new Array<number>(n).fill(1),
      sampling_logprobs: new Array<number>(n).fill(-1),
      advantage: i - 1,
      weight: 1,
      truncated: i === 2,
    })),
  }));

  it("gives every micro-batch the whole step's sequence and token counts, masked completions included", () => {
    const config = TrainConfigSchema.parse({ data: { train: 't.jsonl' }, optim: { microBatchGroups: 2 } });
    const plan = planStepRequests(config, 'r', 3, groups);
    expect(plan.microBatches.map((m) => m.groups.length)).toEqual([2, 2, 1]);
    for (const [i, m] of plan.microBatches.entries()) {
      expect(m.request).toMatchObject({ run: 'r', step: 3, micro_batch: i, micro_batches: 3 });
      expect(m.request.loss).toMatchObject({ normalization: 'sequence', mask_truncated: true, step_sequences: 15, step_tokens: 60 });
    }
  });

  it('sends the learning rate and max_grad_norm of the config, or of the trainer kind when unset', () => {
    const gpu = { data: { train: 't.jsonl' }, trainer: { kind: 'url', url: 'http://trainer:8200' } };
    expect(planStepRequests(TrainConfigSchema.parse(gpu), 'r', 0, groups).optim).toEqual({ run: 'r', step: 0, lr: 1e-6, max_grad_norm: 1 });
    const set = TrainConfigSchema.parse({ ...gpu, optim: { lr: 3e-6, maxGradNorm: 0.25 } });
    expect(planStepRequests(set, 'r', 0, groups).optim).toEqual({ run: 'r', step: 0, lr: 3e-6, max_grad_norm: 0.25 });
    const cpu = TrainConfigSchema.parse({ data: { train: 't.jsonl' }, optim: { lr: 0.01 } });
    expect(planStepRequests(cpu, 'r', 0, groups).optim).toEqual({ run: 'r', step: 0, lr: 0.01, max_grad_norm: null });
  });
});
