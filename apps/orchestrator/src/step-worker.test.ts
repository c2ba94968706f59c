import { DifferadError } from '@differad/core';
import type { ForwardBackwardRequest, ForwardBackwardResponse, Group } from '@differad/trainer-client';
import { describe, expect, it } from 'vitest';
import type { RunContext } from './run-context.js';
import { sendMicroBatch } from './step-worker.js';

const REPLY: ForwardBackwardResponse = {
  run: 'r', step: 0, micro_batch: 0, duplicate: false, loss: 0, clip_fraction: 0, kl: null, sequences: 1, tokens: 1,
  masked: { truncated: 0, unscorable: 0 }, prompt_tokens_match: null,
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
        throw new DifferadError('TRAINER_REJECTED', 'rejected (HTTP 409 TRAINER_IMAGE_UNKNOWN)', { details: { status: 409, error: { code: 'TRAINER_IMAGE_UNKNOWN', message: 'unknown', details: {} } } });
      }
      for (const im of request.groups.flatMap((g) => g.images)) cache.add(im.sha256);
      return REPLY;
    },
  };
}

const request = { run: 'r', step: 0, micro_batch: 0, micro_batches: 1, loss: { clip_low: 0.2, clip_high: 0.2, beta: 0, normalization: 'sequence' as const, mask_truncated: true, temperature: 1 } };

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

  it('passes other rejections through', async () => {
    const ctx = {
      trainer: { forwardBackward: async () => Promise.reject(new DifferadError('TRAINER_REJECTED', 'conflict', { details: { error: { code: 'TRAINER_RUN_CONFLICT' } } })) },
      imagesAtTrainer: new Set<string>(),
    } as unknown as RunContext;
    await expect(sendMicroBatch(ctx, request, [group('b')])).rejects.toThrow('conflict');
  });
});
