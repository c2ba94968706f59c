import { randomUUID } from 'node:crypto';
import { isDifferadError } from '@differad/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisFixture, startRedisFixture } from '../testing/redis-fixture.js';
import { createRunStore, type RunStore } from './run-store.js';

let redis: RedisFixture;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisFixture();
  client = redis.producer;
});

afterAll(() => redis.stop());

function openStore(): RunStore {
  return createRunStore(client, { prefix: `test-${randomUUID().slice(0, 8)}`, now: () => 1_700_000_000_000 });
}

const metrics = (step: number) => ({ step, weightVersion: step + 1, at: step, values: { reward_mean: step / 10 } });

async function completeSteps(store: RunStore, runId: string, steps: number, every: number): Promise<void> {
  for (let step = 0; step < steps; step++) {
    expect(await store.appendMetrics(runId, metrics(step))).toBe(true);
    await store.completeStep(runId, step, step + 1, { checkpoint: (step + 1) % every === 0 });
  }
}

describe('run store: recovery position', () => {
  it('records the last saved checkpoint with the step that saved it, never past the last completed step', async () => {
    const store = openStore();
    await store.createRun('r', {});
    expect(await store.loadRecovery('r')).toEqual({ lastCompletedStep: null, weightVersion: 0, checkpoint: null, round: 0 });
    // A run that was never rewound has no round field: round 0.
    expect(await store.loadRound('r')).toBe(0);
    await completeSteps(store, 'r', 5, 3);
    expect(await store.loadRecovery('r')).toEqual({
      lastCompletedStep: 4,
      weightVersion: 5,
      checkpoint: { step: 2, weightVersion: 3 },
      round: 0,
    });
    // A duplicated completion of an older step records nothing, checkpoint included.
    expect(await store.completeStep('r', 3, 4, { checkpoint: true })).toBe(false);
    expect((await store.loadRecovery('r'))?.checkpoint).toEqual({ step: 2, weightVersion: 3 });
    expect(await store.loadRecovery('ghost')).toBeNull();
  });

  it('rewinds to the checkpoint: later metrics go, their replay appends them again, and the round goes up', async () => {
    const store = openStore();
    await store.createRun('r', {});
    await completeSteps(store, 'r', 5, 3);
    expect(await store.rewindRun('r', 2, 3)).toBe(1);
    expect(await store.loadRecovery('r')).toEqual({
      lastCompletedStep: 2,
      weightVersion: 3,
      checkpoint: { step: 2, weightVersion: 3 },
      round: 1,
    });
    expect((await store.readMetrics('r')).map((m) => m.step)).toEqual([0, 1, 2]);
    // The replayed steps are appended and completed again.
    expect(await store.appendMetrics('r', metrics(3))).toBe(true);
    expect(await store.appendMetrics('r', metrics(3))).toBe(false);
    expect(await store.completeStep('r', 3, 4)).toBe(true);
    expect((await store.readMetrics('r')).map((m) => m.step)).toEqual([0, 1, 2, 3]);
    expect((await store.loadRun('r'))?.lastCompletedStep).toBe(3);
  });

  it('rewinds to before step 0 (no checkpoint was saved), and only starts a new round at the last completed step', async () => {
    const store = openStore();
    await store.createRun('r', {});
    await completeSteps(store, 'r', 3, 10);
    expect(await store.rewindRun('r', 2, 3)).toBe(1);
    expect((await store.readMetrics('r')).map((m) => m.step)).toEqual([0, 1, 2]);
    expect(await store.loadRound('r')).toBe(1);
    expect(await store.rewindRun('r', null, 0)).toBe(2);
    expect(await store.loadRecovery('r')).toEqual({ lastCompletedStep: null, weightVersion: 0, checkpoint: null, round: 2 });
    expect(await store.loadRound('r')).toBe(2);
    expect(await store.loadRound('ghost')).toBeNull();
    expect(await store.readMetrics('r')).toEqual([]);
    expect(await store.appendMetrics('r', metrics(0))).toBe(true);
    expect(isDifferadError(await store.rewindRun('ghost', null, 0).catch((e: unknown) => e), 'QUEUE_RUN_NOT_FOUND')).toBe(true);
  });

  it('forgets a checkpoint past the step it rewinds to', async () => {
    const store = openStore();
    await store.createRun('r', {});
    await completeSteps(store, 'r', 4, 2);
    await store.rewindRun('r', 0, 1);
    expect((await store.loadRecovery('r'))?.checkpoint).toBeNull();
  });
});
