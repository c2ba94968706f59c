import { randomUUID } from 'node:crypto';
import { DifferadError } from '@differad/core';
import { createLogger } from '@differad/log';
import { createCatalogQueues, enqueueRollout, JOB_NAMES, type RedisFixture, startRedisFixture } from '@differad/queue';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContextFactory } from './context-factory.js';
import { startRunWorkers } from './run-workers.js';

let redis: RedisFixture;
let producer: Redis;
let workerConnection: Redis;

beforeAll(async () => {
  redis = await startRedisFixture();
  ({ producer, workerConnection } = redis);
});
afterAll(() => redis.stop());

describe('startRunWorkers logs', () => {
  it('a failed job as one JSON line with its run, step, slot, pair, job id, queue and error code', async () => {
    const namespace = `log-${randomUUID().slice(0, 8)}`;
    const catalog = createCatalogQueues(producer, { namespace });
    // A job of a run this Redis does not know: the worker fails it for good with the factory's code.
    const factory = {
      get: (runId: string) => Promise.reject(new DifferadError('ORCHESTRATOR_RUN_UNKNOWN', `run ${runId} is not in Redis`)),
      close: () => Promise.resolve(),
    } as unknown as ContextFactory;
    const lines: Record<string, unknown>[] = [];
    let onLine = (): void => undefined;
    const logged = new Promise<void>((resolve) => (onLine = resolve));
    const logger = createLogger({
      level: 'info',
      format: 'json',
      name: 'worker',
      write: (line) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
        onLine();
      },
    });
    const workers = startRunWorkers({ connection: workerConnection, factory, namespace, logger });
    try {
      const job = await enqueueRollout(catalog, {
        runId: 'run-gone',
        step: 4,
        pairIndex: 2,
        pairId: 'bottle/001',
        attempt: 0,
        seed: 1,
        weightVersion: 4,
      });
      await logged;
      expect(lines).toEqual([
        expect.objectContaining({
          level: 'error',
          name: 'worker',
          run: 'run-gone',
          step: 4,
          slot: 2,
          pair: 'bottle/001',
          job: job.id,
          queue: expect.stringContaining('rollout'),
          code: 'ORCHESTRATOR_RUN_UNKNOWN',
          final: true,
          msg: expect.stringContaining('run run-gone is not in Redis'),
        }),
      ]);
    } finally {
      await workers.close(true);
      await Promise.all(JOB_NAMES.map((n) => catalog.queues[n].obliterate({ force: true })));
      await catalog.close();
    }
  });
});
