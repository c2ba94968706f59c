/**
 * The pieces a step is made of, each timed alone with the product's own
 * functions against the same fakes, trainer and Redis as the runs: frame
 * preparation (cold encode, and the cache hit every rollout pays), one fleet
 * request of G completions, decoding its reply, scoring a group, one forward_backward call of a
 * micro-batch, and a Redis round trip. Means per call, in ms.
 */
import { createHash } from 'node:crypto';
import type { TrainConfig } from '@differad/config';
import { type ManifestRecord, scoreGroup } from '@differad/core';
import { loadManifest, resolveManifestPath } from '@differad/datasets';
import { createFramePreparer, type PreparedImage } from '@differad/images';
import { type CompletionResult, createFleet, parseChatResponse, parseChatResponseText, toChatRequestBody } from '@differad/inference';
import { createTrainerClient, type Group, packTokens } from '@differad/trainer-client';
import type { Redis } from 'ioredis';

/** Mean ms per call of each piece. */
export interface ComponentFigures {
  readonly prepareColdMs: number;
  readonly prepareHitMs: number;
  readonly imageBytes: number;
  readonly fleetSequentialMs: number;
  /** `pairsPerStep` requests at once: the HTTP part of a step's rollouts. */
  readonly fleetBurstMs: number;
  readonly requestBytes: number;
  /** One fleet request's reply: its size, and decoding it whole (JSON.parse + checks) or as the fleet does (log-prob entries as numbers). */
  readonly replyBytes: number;
  readonly replyWholeMs: number;
  readonly replyLeanMs: number;
  readonly scoreGroupMs: number;
  readonly forwardBackwardMs: number;
  readonly forwardBackwardBytes: number;
  /** The same micro-batch with images by hash only (what the API allows once the trainer holds them). */
  readonly forwardBackwardByHashMs: number;
  readonly forwardBackwardByHashBytes: number;
  /** The same by hash, token ids and log-probs packed (a trainer with the packed_completions feature). */
  readonly forwardBackwardPackedMs: number;
  readonly forwardBackwardPackedBytes: number;
  readonly optimStepMs: number;
  readonly redisPingMs: number;
}

async function timeEach(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (performance.now() - t0) / n;
}

function toTrainerImage(image: PreparedImage) {
  const data = image.dataUrl.slice(image.dataUrl.indexOf(',') + 1);
  return { sha256: createHash('sha256').update(Buffer.from(data, 'base64')).digest('hex'), data, media_type: image.mimeType };
}

function toGroup(record: ManifestRecord, images: readonly PreparedImage[], result: CompletionResult): Group {
  return {
    pair_id: record.id,
    images: images.map(toTrainerImage),
    messages: [
      {
        role: 'user',
        content: [
          { type: 'image', image: 0 },
          { type: 'image', image: 1 },
          { type: 'text', text: 'Find the anomaly.' },
        ],
      },
    ],
    prompt_token_ids: result.promptTokenIds === null ? null : [...result.promptTokenIds],
    completions: result.completions.map((c) => ({
      text: c.text,
      token_ids: [...(c.tokenIds ?? [0])],
      sampling_logprobs: [...(c.logprobs ?? [0])],
      advantage: 0.1,
      weight: 1,
      truncated: false,
    })),
  };
}

/** Times each piece `rounds` times (fewer for the slow ones). */
export async function measureComponents(input: {
  readonly config: TrainConfig;
  readonly fleetUrls: readonly string[];
  readonly model: string;
  readonly trainerUrl: string;
  readonly redis: Redis;
  readonly rounds: number;
}): Promise<ComponentFigures> {
  const { config, rounds } = input;
  const manifest = await loadManifest(config.data.train);
  const records = manifest.records.slice(0, config.grpo.pairsPerStep);
  const paths = (r: ManifestRecord) =>
    [resolveManifestPath(config.data.train, r.reference), resolveManifestPath(config.data.train, r.target)] as const;

  const preparer = createFramePreparer({ resize: config.resize, format: 'png' });
  const prepareColdMs = await timeEach(records.length, (i) => preparer.preparePair(...paths(records[i]!)));
  const pairs = await Promise.all(records.map((r) => preparer.preparePair(...paths(r))));
  const prepareHitMs = await timeEach(rounds * 4, (i) => preparer.preparePair(...paths(records[i % records.length]!)));
  const imageBytes = pairs.reduce((a, p) => a + p.reference.encodedBytes + p.target.encodedBytes, 0) / pairs.length / 2;

  const fleet = createFleet({ servers: [...input.fleetUrls], model: input.model, timeoutMs: 60_000 });
  await fleet.start();
  const request = (i: number) => ({
    requestId: `bench-component-${i}`,
    referenceImage: pairs[i % pairs.length]!.reference.dataUrl,
    targetImage: pairs[i % pairs.length]!.target.dataUrl,
    system: 'You compare two images.',
    prompt: 'Find the anomaly.',
    n: config.grpo.groupSize,
    sampling: config.sampling,
    seed: i,
    logprobs: true,
    returnTokenIds: true,
  });
  const results: CompletionResult[] = [];
  let fleetSequentialMs: number;
  let fleetBurstMs: number;
  try {
    fleetSequentialMs = await timeEach(rounds, async (i) => results.push(await fleet.complete(request(i))));
    fleetBurstMs = await timeEach(Math.max(4, rounds >> 2), (i) =>
      Promise.all(records.map((_, k) => fleet.complete(request(i * records.length + k)))),
    );
  } finally {
    await fleet.close();
  }
  const requestBytes = pairs[0]!.reference.dataUrl.length + pairs[0]!.target.dataUrl.length;
  const reply = await fetch(`${input.fleetUrls[0]}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(toChatRequestBody(input.model, request(0))),
  }).then((r) => r.text());
  const asked = { n: config.grpo.groupSize, logprobs: true, tokenIds: true };
  const replyWholeMs = await timeEach(rounds * 10, () => parseChatResponse(JSON.parse(reply) as unknown, asked));
  const replyLeanMs = await timeEach(rounds * 10, () => parseChatResponseText(reply, asked));

  const score = { family: 'differad' as const, frame: 'norm1000' as const, resize: config.resize, reward: config.reward };
  const texts = results[0]!.completions.map((c) => c.text);
  const scoreGroupMs = await timeEach(rounds * 10, (i) => scoreGroup(texts, records[i % records.length]!, score, config.grpo));

  const trainer = createTrainerClient({ baseUrl: input.trainerUrl, timeoutMs: 60_000 });
  const groups = records
    .slice(0, config.optim.microBatchGroups)
    .map((r, k) => toGroup(r, [pairs[k]!.reference, pairs[k]!.target], results[k % results.length]!));
  const loss = { clip_low: 0.2, clip_high: 0.2, beta: 0, normalization: 'sequence' as const, mask_truncated: true, temperature: 0.9 };
  const fbRequest = (i: number) => ({ run: 'bench-components', step: i, micro_batch: 0, micro_batches: 1, loss, groups });
  const byHash = groups.map((g) => ({ ...g, images: g.images.map((im) => ({ sha256: im.sha256 })) }));
  const fbByHash = (i: number) => ({ ...fbRequest(i), groups: byHash });
  // What the step job sends a trainer with the packed_completions feature (step-worker.ts withPackedCompletions), packed per call as it does.
  const fbPacked = (i: number) => ({
    ...fbRequest(i),
    groups: byHash.map((g) => ({
      ...g,
      completions: g.completions.map(({ token_ids, sampling_logprobs, ...rest }) => ({
        ...rest,
        packed: packTokens(token_ids!, sampling_logprobs!),
      })),
    })),
  });
  let forwardBackwardMs: number;
  let forwardBackwardByHashMs: number;
  let forwardBackwardPackedMs: number;
  let optimStepMs: number;
  try {
    forwardBackwardMs = await timeEach(rounds, (i) => trainer.forwardBackward(fbRequest(i)));
    forwardBackwardByHashMs = await timeEach(rounds, (i) => trainer.forwardBackward(fbByHash(i)));
    forwardBackwardPackedMs = await timeEach(rounds, (i) => trainer.forwardBackward(fbPacked(i)));
    optimStepMs = await timeEach(rounds, (i) => trainer.optimStep({ run: 'bench-components', step: i, lr: 0.01 }));
  } finally {
    await trainer.close();
  }
  const forwardBackwardBytes = JSON.stringify(fbRequest(0)).length;
  const forwardBackwardByHashBytes = JSON.stringify(fbByHash(0)).length;
  const forwardBackwardPackedBytes = JSON.stringify(fbPacked(0)).length;
  const redisPingMs = await timeEach(rounds * 10, () => input.redis.ping());
  return {
    prepareColdMs,
    prepareHitMs,
    imageBytes,
    fleetSequentialMs,
    fleetBurstMs,
    requestBytes,
    replyBytes: reply.length,
    replyWholeMs,
    replyLeanMs,
    scoreGroupMs,
    forwardBackwardMs,
    forwardBackwardBytes,
    forwardBackwardByHashMs,
    forwardBackwardByHashBytes,
    forwardBackwardPackedMs,
    forwardBackwardPackedBytes,
    optimStepMs,
    redisPingMs,
  };
}
