import { randomUUID } from 'node:crypto';
import { DifferadError, isDifferadError } from '@differad/core';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createRedisConnection } from '../connection/redis-connection.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../embedded/start-embedded-redis.js';
import { createCatalogWorker, type CatalogProcessor } from '../workers/create-catalog-worker.js';
import { parseFailedReason } from '../workers/to-bullmq-error.js';
import { createCatalogQueues, type CatalogQueues } from './catalog-queues.js';
import { enqueueRollout, enqueueStep } from './enqueue.js';
import { JOB_NAMES, type JobName } from './job-names.js';
import type { JobSettingsOverrides } from './job-settings.js';
import type { JobPayloads, RolloutPayload } from './payloads.js';
import { enqueueStepFlow } from './step-flow.js';

let redis: EmbeddedRedis;
let producer: Redis;
let workerConnection: Redis;
const open: { catalogs: CatalogQueues[]; workers: Worker[] } = { catalogs: [], workers: [] };

beforeAll(async () => {
  redis = await startEmbeddedRedis();
  producer = await connectRedis(redis.url, 'producer');
  workerConnection = createRedisConnection(redis.url, 'worker');
});

afterEach(async () => {
  await Promise.all(open.workers.splice(0).map((w) => w.close()));
  for (const catalog of open.catalogs.splice(0)) {
    await Promise.all(JOB_NAMES.map((n) => catalog.queues[n].obliterate({ force: true })));
    await catalog.close();
  }
});

afterAll(async () => {
  await producer.quit();
  await workerConnection.quit();
  await redis.stop();
});

/** A catalog in a namespace of its own, so no two tests share a queue. */
function openCatalog(settings?: JobSettingsOverrides): { catalog: CatalogQueues; namespace: string } {
  const namespace = `t-${randomUUID().slice(0, 8)}`;
  const catalog = createCatalogQueues(producer, { namespace, ...(settings === undefined ? {} : { settings }) });
  open.catalogs.push(catalog);
  return { catalog, namespace };
}

function startWorker<N extends JobName, R>(name: N, namespace: string, processor: CatalogProcessor<N, R>): Worker<JobPayloads[N], R, N> {
  const worker = createCatalogWorker(name, processor, { connection: workerConnection, namespace, concurrency: 4 });
  open.workers.push(worker as unknown as Worker);
  return worker;
}

/** Resolves with the job once the worker emits `event` for it `times` times in all. */
function waitForJobs(worker: Worker, event: 'completed' | 'failed', times: number): Promise<Job[]> {
  return new Promise((resolve) => {
    const seen: Job[] = [];
    worker.on(event, (job: Job | undefined) => {
      if (job !== undefined) seen.push(job);
      if (seen.length === times) resolve(seen);
    });
  });
}

const rollout = (pairIndex: number, extra: Partial<RolloutPayload> = {}): RolloutPayload => ({
  runId: 'run-1',
  step: 0,
  pairIndex,
  pairId: `pair-${pairIndex}`,
  attempt: 0,
  seed: 7 + pairIndex,
  weightVersion: 0,
  ...extra,
});

describe('catalog queues on Redis', () => {
  it('a worker processes each enqueued job exactly once', async () => {
    const { catalog, namespace } = openCatalog();
    const calls = new Map<string, number>();
    const worker = startWorker('rollout', namespace, async (payload, job) => {
      calls.set(job.id ?? '', (calls.get(job.id ?? '') ?? 0) + 1);
      return { pairId: payload.pairId };
    });
    const done = waitForJobs(worker as unknown as Worker, 'completed', 3);
    await Promise.all([0, 1, 2].map((i) => enqueueRollout(catalog, rollout(i))));
    const jobs = await done;
    expect(jobs.map((j) => j.returnvalue).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { pairId: 'pair-0' },
      { pairId: 'pair-1' },
      { pairId: 'pair-2' },
    ]);
    expect([...calls.entries()].sort()).toEqual([
      ['rollout.run-1.s0.p0.a0', 1],
      ['rollout.run-1.s0.p1.a0', 1],
      ['rollout.run-1.s0.p2.a0', 1],
    ]);
  });

  it('de-duplicates a second enqueue of the same (run, step, pair, attempt)', async () => {
    const { catalog, namespace } = openCatalog();
    const first = await enqueueRollout(catalog, rollout(0));
    const again = await enqueueRollout(catalog, rollout(0, { seed: 999 }));
    expect(again.id).toBe(first.id);
    expect(await catalog.queues.rollout.getWaitingCount()).toBe(1);

    let calls = 0;
    const worker = startWorker('rollout', namespace, async () => ++calls);
    const done = waitForJobs(worker as unknown as Worker, 'completed', 2);
    // While the completed job is retained, enqueueing its id again changes nothing.
    await waitForJobs(worker as unknown as Worker, 'completed', 1);
    const late = await enqueueRollout(catalog, rollout(0));
    expect(await late.getState()).toBe('completed');
    // A resample of the same pair is a new attempt and runs.
    await enqueueRollout(catalog, rollout(0, { attempt: 1 }));
    await done;
    expect(calls).toBe(2);
  });

  it('refuses a bad payload before it reaches Redis, naming the field', async () => {
    const { catalog } = openCatalog();
    const error = await enqueueRollout(catalog, rollout(0, { pairId: '' })).catch((e: unknown) => e);
    expect(isDifferadError(error, 'QUEUE_PAYLOAD_INVALID')).toBe(true);
    expect((error as DifferadError).details.field).toBe('pairId');
    expect(await catalog.queues.rollout.count()).toBe(0);
  });

  it('fails a job with a bad payload at the worker at once', async () => {
    const { catalog, namespace } = openCatalog();
    let calls = 0;
    const worker = startWorker('step', namespace, async () => ++calls);
    const failed = waitForJobs(worker as unknown as Worker, 'failed', 1);
    await catalog.queues.step.add('step', { runId: 'r', step: -1, pairCount: 1, weightVersion: 0 }, { attempts: 3 });
    const [job] = await failed;
    expect(parseFailedReason(job?.failedReason).code).toBe('QUEUE_PAYLOAD_INVALID');
    expect(job?.attemptsMade).toBe(1);
    expect(calls).toBe(0);
  });

  it('does not retry a non-retryable error but retries a retryable one with backoff', async () => {
    const backoffMs = 25;
    const { catalog, namespace } = openCatalog({ rollout: { attempts: 3, backoffMs } });
    const starts = new Map<number, number[]>();
    const worker = startWorker('rollout', namespace, async (payload) => {
      const times = starts.get(payload.pairIndex) ?? [];
      times.push(Date.now());
      starts.set(payload.pairIndex, times);
      if (payload.pairIndex === 0) throw new DifferadError('QUEUE_PAYLOAD_INVALID', 'never works');
      if (times.length < 3) throw new DifferadError('QUEUE_REDIS_UNREACHABLE', 'try again', { retryable: true });
      return 'ok';
    });
    const failedFor = new Promise<Job>((resolve) =>
      worker.on('failed', (job) => job?.data.pairIndex === 0 && resolve(job as unknown as Job)),
    );
    const completed = waitForJobs(worker as unknown as Worker, 'completed', 1);
    await enqueueRollout(catalog, rollout(0));
    await enqueueRollout(catalog, rollout(1));

    const bad = await failedFor;
    expect(await bad.getState()).toBe('failed');
    expect(bad.attemptsMade).toBe(1);
    expect(parseFailedReason(bad.failedReason)).toEqual({ code: 'QUEUE_PAYLOAD_INVALID', message: 'never works' });

    const [good] = await completed;
    expect(good?.attemptsMade).toBe(3);
    const [t0 = 0, t1 = 0, t2 = 0] = starts.get(1) ?? [];
    expect(starts.get(1)).toHaveLength(3);
    // Exponential: the first retry waits backoffMs, the second twice that.
    expect(t1 - t0).toBeGreaterThanOrEqual(backoffMs - 2);
    expect(t2 - t1).toBeGreaterThanOrEqual(2 * backoffMs - 2);
    expect(starts.get(0)).toHaveLength(1);
  });

  it('runs a step flow: the parent step completes after all its rollout children', async () => {
    const { catalog, namespace } = openCatalog();
    const events: string[] = [];
    startWorker('rollout', namespace, async (payload) => {
      events.push(`rollout ${payload.pairIndex}`);
      return { pairIndex: payload.pairIndex, rewardMean: payload.pairIndex / 10 };
    });
    const stepWorker = startWorker('step', namespace, async (payload, job) => {
      events.push('step');
      const children = Object.values(await job.getChildrenValues());
      return { step: payload.step, groups: children.length };
    });
    const stepDone = waitForJobs(stepWorker as unknown as Worker, 'completed', 1);
    const pairs = [0, 1, 2, 3].map((i) => rollout(i, { step: 5, weightVersion: 5 }));
    const node = await enqueueStepFlow(catalog, { step: { runId: 'run-1', step: 5, pairCount: 4, weightVersion: 5 }, rollouts: pairs });
    expect(node.job.id).toBe('step.run-1.s5');
    expect(node.children?.map((c) => c.job.id).sort()).toEqual([0, 1, 2, 3].map((i) => `rollout.run-1.s5.p${i}.a0`));

    const [step] = await stepDone;
    expect(step?.returnvalue).toEqual({ step: 5, groups: 4 });
    expect(events.at(-1)).toBe('step');
    expect(events.filter((e) => e.startsWith('rollout'))).toHaveLength(4);
  });

  it('refuses a flow whose rollouts belong to another step, before anything reaches Redis', async () => {
    const { catalog } = openCatalog();
    const pairs = [rollout(0, { step: 5 }), rollout(1, { step: 6 })];
    const error = await enqueueStepFlow(catalog, {
      step: { runId: 'run-1', step: 5, pairCount: 2, weightVersion: 0 },
      rollouts: pairs,
    }).catch((e: unknown) => e);
    expect(isDifferadError(error, 'QUEUE_PAYLOAD_INVALID')).toBe(true);
    expect((error as DifferadError).details.field).toBe('rollouts.1.step');
    expect(await catalog.queues.step.count()).toBe(0);
    expect(await catalog.queues.rollout.count()).toBe(0);
    // A lone step job is still possible (e.g. re-driving a step whose groups are stored).
    expect((await enqueueStep(catalog, { runId: 'run-1', step: 5, pairCount: 2, weightVersion: 0 })).id).toBe('step.run-1.s5');
  });
});
