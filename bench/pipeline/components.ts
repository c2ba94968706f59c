/**
 * The pieces a step is made of, each timed alone with the product's own
 * functions against the same fakes, trainer and Redis as the runs: frame
 * preparation (cold encode, and the cache hit every rollout pays), one fleet
 * request of G completions, decoding its reply, scoring a group, one forward_backward call of a
 * micro-batch, a control call and an in-flight weight update of every
 * server, a step's BullMQ flow (the step and its rollouts, no-op
 * processors), and a Redis round trip. Means per call, in ms, of the wall
 * clock and of this process's CPU (user + system), which is what the
 * orchestrator's CPU goal counts.
 */
import { createHash } from 'node:crypto';
import type { TrainConfig } from '@differad/config';
import { type ManifestRecord, scoreGroup } from '@differad/core';
import { loadManifest, resolveManifestPath } from '@differad/datasets';
import { createFramePreparer, type PreparedImage } from '@differad/images';
import {
  type CompletionResult,
  createFleet,
  createVllmControl,
  parseChatResponse,
  parseChatResponseText,
  toChatRequestBody,
} from '@differad/inference';
import { createTrainerClient, type Group, packTokens } from '@differad/trainer-client';
import { FlowProducer, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

/** One piece's mean per call: wall-clock ms, and ms of this process's CPU (user + system). */
export interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Each piece's mean per call. */
export interface ComponentFigures {
  readonly prepareCold: Timing;
  readonly prepareHit: Timing;
  readonly imageBytes: number;
  readonly fleetSequential: Timing;
  /** `pairsPerStep` requests at once: the HTTP part of a step's rollouts. */
  readonly fleetBurst: Timing;
  readonly requestBytes: number;
  /** One fleet request's reply: its size, and decoding it whole (JSON.parse + checks) or as the fleet does (log-prob entries as numbers). */
  readonly replyBytes: number;
  readonly replyWhole: Timing;
  readonly replyLean: Timing;
  readonly scoreGroup: Timing;
  readonly forwardBackward: Timing;
  readonly forwardBackwardBytes: number;
  /** The same micro-batch with images by hash only (what the API allows once the trainer holds them). */
  readonly forwardBackwardByHash: Timing;
  readonly forwardBackwardByHashBytes: number;
  /** The same by hash, token ids and log-probs packed (a trainer with the packed_completions feature). */
  readonly forwardBackwardPacked: Timing;
  readonly forwardBackwardPackedBytes: number;
  readonly optimStep: Timing;
  /** One small control call (`GET /health` of an inference server): the weight sync makes several per server each step. */
  readonly controlCall: Timing;
  /** An in-flight weight update of every server, as the overlapped mode's disk sync makes it each step: /health, then pause (keep), reload_weights, update_weight_version, resume. */
  readonly fleetUpdate: Timing;
  /** A step's BullMQ flow: the step job and its `pairsPerStep` rollout jobs, added, taken and completed by no-op workers. */
  readonly stepFlow: Timing;
  readonly redisPing: Timing;
}

async function timeEach(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const ms = (performance.now() - t0) / n;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 / n };
}

/**
 * Times `rounds` step flows through no-op workers on queues of their own:
 * BullMQ's part of a step (its scripts, the workers' fetches, the parent
 * let through when its last child completes) without any of differad's work.
 */
async function timeStepFlows(redis: Redis, rollouts: number, rounds: number): Promise<Timing> {
  const prefix = `bench-components-${process.pid}`;
  // Connections handed to BullMQ are the caller's to close.
  const opened: Redis[] = [];
  const connection = () => {
    const c = redis.duplicate({ maxRetriesPerRequest: null });
    opened.push(c);
    return c;
  };
  const flows = new FlowProducer({ connection: connection(), prefix });
  let release: (() => void) | null = null;
  const rolloutWorker = new Worker(prefix + '-rollout', async () => ({ ok: true }), {
    connection: connection(),
    prefix,
    concurrency: rollouts,
  });
  const stepWorker = new Worker(
    prefix + '-step',
    async () => {
      release?.();
      return { ok: true };
    },
    { connection: connection(), prefix },
  );
  const flow = (i: number) =>
    new Promise<void>((resolve, reject) => {
      release = resolve;
      flows
        .add({
          name: 'step',
          queueName: prefix + '-step',
          data: { step: i },
          opts: { jobId: `step-${i}`, removeOnComplete: true },
          children: Array.from({ length: rollouts }, (_, k) => ({
            name: 'rollout',
            queueName: prefix + '-rollout',
            data: { step: i, pairIndex: k },
            opts: { jobId: `rollout-${i}-${k}`, removeOnComplete: true },
          })),
        })
        .catch(reject);
    });
  try {
    await timeEach(Math.max(5, rounds >> 3), (i) => flow(-1 - i));
    return await timeEach(rounds, flow);
  } finally {
    await Promise.all([rolloutWorker.close(), stepWorker.close(), flows.close()]);
    await Promise.all(opened.map((c) => c.quit()));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
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
  const prepareCold = await timeEach(records.length, (i) => preparer.preparePair(...paths(records[i]!)));
  const pairs = await Promise.all(records.map((r) => preparer.preparePair(...paths(r))));
  const prepareHit = await timeEach(rounds * 4, (i) => preparer.preparePair(...paths(records[i % records.length]!)));
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
  let fleetSequential: Timing;
  let fleetBurst: Timing;
  try {
    fleetSequential = await timeEach(rounds, async (i) => results.push(await fleet.complete(request(i))));
    fleetBurst = await timeEach(Math.max(4, rounds >> 2), (i) =>
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
  const replyWhole = await timeEach(rounds * 10, () => parseChatResponse(JSON.parse(reply) as unknown, asked));
  const replyLean = await timeEach(rounds * 10, () => parseChatResponseText(reply, asked));

  const score = { family: 'differad' as const, frame: 'norm1000' as const, resize: config.resize, reward: config.reward };
  const texts = results[0]!.completions.map((c) => c.text);
  const scoring = await timeEach(rounds * 10, (i) => scoreGroup(texts, records[i % records.length]!, score, config.grpo));

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
  let forwardBackward: Timing;
  let forwardBackwardByHash: Timing;
  let forwardBackwardPacked: Timing;
  let optimStep: Timing;
  let weightsPath: string;
  try {
    forwardBackward = await timeEach(rounds, (i) => trainer.forwardBackward(fbRequest(i)));
    forwardBackwardByHash = await timeEach(rounds, (i) => trainer.forwardBackward(fbByHash(i)));
    forwardBackwardPacked = await timeEach(rounds, (i) => trainer.forwardBackward(fbPacked(i)));
    optimStep = await timeEach(rounds, (i) => trainer.optimStep({ run: 'bench-components', step: i, lr: 0.01 }));
    weightsPath = (await trainer.sendWeights({ version: 1, backend: 'disk' })).path ?? '';
  } finally {
    await trainer.close();
  }
  const forwardBackwardBytes = JSON.stringify(fbRequest(0)).length;
  const forwardBackwardByHashBytes = JSON.stringify(fbByHash(0)).length;
  const forwardBackwardPackedBytes = JSON.stringify(fbPacked(0)).length;
  const controls = input.fleetUrls.map((url) => createVllmControl({ url, timeoutMs: 60_000 }));
  let controlCall: Timing;
  let fleetUpdate: Timing;
  try {
    controlCall = await timeEach(rounds, () => controls[0]!.health(5_000));
    // The calls of packages/orchestrator's sync-fleet and weight-sync for a `keep` update, every server at once.
    fleetUpdate = await timeEach(Math.max(4, rounds >> 2), () =>
      Promise.all(
        controls.map(async (c) => {
          await c.health(5_000);
          await c.pause({ mode: 'keep' });
          await c.reloadWeights(weightsPath);
          await c.updateWeightVersion('1');
          await c.resume();
        }),
      ),
    );
  } finally {
    await Promise.all(controls.map((c) => c.close()));
  }
  const stepFlow = await timeStepFlows(input.redis, config.grpo.pairsPerStep, Math.max(10, rounds >> 1));
  const redisPing = await timeEach(rounds * 10, () => input.redis.ping());
  return {
    prepareCold,
    prepareHit,
    imageBytes,
    fleetSequential,
    fleetBurst,
    requestBytes,
    replyBytes: reply.length,
    replyWhole,
    replyLean,
    scoreGroup: scoring,
    forwardBackward,
    forwardBackwardBytes,
    forwardBackwardByHash,
    forwardBackwardByHashBytes,
    forwardBackwardPacked,
    forwardBackwardPackedBytes,
    optimStep,
    controlCall,
    fleetUpdate,
    stepFlow,
    redisPing,
  };
}
