import { TrainConfigSchema } from '@differad/config';
import { createRunStore, type RedisFixture, startRedisFixture } from '@differad/queue';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroupStore } from './group-store.js';
import type { RunContext } from './run-context.js';
import { createStepProcessor } from './step-worker.js';

let redis: RedisFixture;
beforeAll(async () => {
  redis = await startRedisFixture();
});
afterAll(() => redis.stop());

/** A step job of an overlapped run whose slots are not final yet, so it stops at its slot reads; the trainer answers health only. */
async function stepJobOf(runId: string) {
  const store = createRunStore(redis.producer);
  await store.createRun(runId, {});
  const config = TrainConfigSchema.parse({
    data: { train: 'x.jsonl' },
    policy: { kind: 'endpoints', endpoints: ['http://127.0.0.1:1'], model: 'm' },
    grpo: { maxStaleness: 1, pairsPerStep: 2 },
  });
  const ctx = {
    runId,
    config,
    redis: redis.producer,
    store,
    trainer: { health: async () => ({ status: 'ok', run: runId, step: 2, weight_version: 3 }) },
    log: () => undefined,
  } as unknown as RunContext;
  const run = createStepProcessor(ctx, createGroupStore(redis.producer), { group: null });
  const job = { timestamp: Date.now() } as Job;
  return { store, run: (round: number) => run({ runId, step: 3, pairCount: 2, weightVersion: 3, ...(round ? { round } : {}) }, job) };
}

const finalKey = (runId: string, step: number, slot: number) => `differad:run:${runId}:step:${step}:slot:${slot}:final`;

describe('the step job and the groups of the step before', () => {
  it('drops them once its round is the run’s', async () => {
    const { run } = await stepJobOf('clean-current');
    await redis.producer.set(finalKey('clean-current', 2, 0), '{}');
    await redis.producer.set(finalKey('clean-current', 3, 1), '{}');
    await expect(run(0)).rejects.toMatchObject({ code: 'ORCHESTRATOR_GROUP_MISSING' });
    expect(await redis.producer.exists(finalKey('clean-current', 2, 0))).toBe(0);
    // Its own step's groups stay.
    expect(await redis.producer.exists(finalKey('clean-current', 3, 1))).toBe(1);
  });

  it('leaves them alone when its round is one the run has left: the new round may be filling those slots', async () => {
    const { store, run } = await stepJobOf('clean-stale');
    await store.rewindRun('clean-stale', null, 0);
    await redis.producer.set(finalKey('clean-stale', 2, 0), '{}');
    await expect(run(0)).rejects.toMatchObject({ code: 'ORCHESTRATOR_STALE_ROUND' });
    expect(await redis.producer.exists(finalKey('clean-stale', 2, 0))).toBe(1);
  });
});
