// collectQueues against real BullMQ queues of the catalog on a real redis-server:
// the counts a scrape reports are what Queue.getJobCounts sees, per state,
// and they return to 0 once the queue is drained.
import { randomUUID } from 'node:crypto';
import {
  createCatalogQueues,
  createCatalogWorker,
  enqueueRollout,
  type RedisFixture,
  type RolloutPayload,
  startRedisFixture,
} from '@differad/queue';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../create-metrics.js';

let redis: RedisFixture;
let producer: Redis;
let workerConnection: Redis;

beforeAll(async () => {
  redis = await startRedisFixture();
  ({ producer, workerConnection } = redis);
});

afterAll(() => redis.stop());

const rollout = (pairIndex: number): RolloutPayload => ({
  runId: 'run-1',
  step: 0,
  pairIndex,
  pairId: `pair-${pairIndex}`,
  attempt: 0,
  seed: pairIndex,
  weightVersion: 0,
  round: 0,
});

const queueJobs = (text: string, queue: string) =>
  Object.fromEntries(
    [...text.matchAll(new RegExp(`^differad_queue_jobs\\{queue="${queue}",state="([a-z-]+)"\\} (\\d+)$`, 'gm'))].map((m) => [
      m[1],
      Number(m[2]),
    ]),
  );

describe('collectQueues on Redis', () => {
  it('reports waiting, active and delayed jobs of the catalog queues, and 0 everywhere once drained', async () => {
    const namespace = `m-${randomUUID().slice(0, 8)}`;
    const catalog = createCatalogQueues(producer, { namespace });
    const metrics = createMetrics({ processMetrics: false });
    const stop = metrics.collectQueues(Object.values(catalog.queues));
    try {
      for (const i of [0, 1, 2]) await enqueueRollout(catalog, rollout(i));
      await catalog.queues.rollout.add('rollout', rollout(3), { delay: 3_600_000, jobId: 'later' });
      expect(queueJobs(await metrics.expose(), `${namespace}-rollout`)).toMatchObject({ waiting: 3, active: 0, delayed: 1, failed: 0 });
      expect(queueJobs(await metrics.expose(), `${namespace}-step`)).toMatchObject({ waiting: 0, 'waiting-children': 0 });

      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const worker = createCatalogWorker('rollout', () => gate, { connection: workerConnection, namespace, concurrency: 1 });
      const active = new Promise<void>((resolve) => worker.once('active', () => resolve()));
      const drained = new Promise<void>((resolve) => worker.once('drained', () => resolve()));
      await active;
      expect(queueJobs(await metrics.expose(), `${namespace}-rollout`)).toMatchObject({ waiting: 2, active: 1, delayed: 1 });
      release();
      await drained;
      await catalog.queues.rollout.remove('later');
      await worker.close();
      const after = queueJobs(await metrics.expose(), `${namespace}-rollout`);
      expect(Object.values(after)).toHaveLength(7);
      expect(Object.values(after).every((n) => n === 0)).toBe(true);
    } finally {
      stop();
      await Promise.all(Object.values(catalog.queues).map((q) => q.obliterate({ force: true })));
      await catalog.close();
    }
  });
});
