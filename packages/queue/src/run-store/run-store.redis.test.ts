import { randomUUID } from 'node:crypto';
import { isDifferadError, type DifferadError } from '@differad/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type RedisFixture, startRedisFixture } from '../testing/redis-fixture.js';
import { createRunStore, type RunStore } from './run-store.js';

let redis: RedisFixture;
let client: Redis;
let clock = 1_700_000_000_000;
const now = (): number => clock;

beforeAll(async () => {
  redis = await startRedisFixture();
  client = redis.producer;
});

afterAll(() => redis.stop());

/** A store under a prefix of its own, so tests never see each other's runs. */
function openStore(): { store: RunStore; prefix: string } {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  return { store: createRunStore(client, { prefix, now }), prefix };
}

const ConfigSchema = z.object({ steps: z.int(), groupSize: z.int(), policy: z.enum(['cpu', 'vllm']) });

describe('run store', () => {
  it('round-trips a run: config, state, last completed step, weight version and metrics', async () => {
    const { store } = openStore();
    expect(await store.createRun('run-a', { steps: 30, groupSize: 8, policy: 'cpu' })).toBe(true);
    expect(await store.createRun('run-a', { steps: 1, groupSize: 1, policy: 'cpu' })).toBe(false);
    expect(await store.loadConfig('run-a', ConfigSchema)).toEqual({ steps: 30, groupSize: 8, policy: 'cpu' });
    expect(await store.loadRun('run-a')).toEqual({
      runId: 'run-a',
      state: 'created',
      lastCompletedStep: null,
      weightVersion: 0,
      createdAt: clock,
      updatedAt: clock,
    });

    clock += 1000;
    await store.setState('run-a', 'running');
    expect(await store.completeStep('run-a', 0, 1)).toBe(true);
    expect(await store.completeStep('run-a', 1, 2)).toBe(true);
    // A retried completion of an older step never moves the run backwards.
    expect(await store.completeStep('run-a', 0, 1)).toBe(false);
    await store.setState('run-a', 'failed', 'trainer unreachable');
    expect(await store.loadRun('run-a')).toEqual(
      expect.objectContaining({
        state: 'failed',
        message: 'trainer unreachable',
        lastCompletedStep: 1,
        weightVersion: 2,
        updatedAt: clock,
      }),
    );
    await store.setState('run-a', 'running');
    await store.beat('run-a', { pid: 1, host: 'h' }, 60_000);
    expect((await store.loadRun('run-a'))?.message).toBeUndefined();

    const metrics = (step: number) => ({
      step,
      weightVersion: step + 1,
      at: clock + step,
      values: { rewardMean: step / 10, evalAcc30: null },
    });
    expect(await store.appendMetrics('run-a', metrics(0))).toBe(true);
    expect(await store.appendMetrics('run-a', metrics(1))).toBe(true);
    expect(await store.appendMetrics('run-a', metrics(2))).toBe(true);
    expect(await store.appendMetrics('run-a', metrics(1))).toBe(false);
    expect(await store.readMetrics('run-a')).toEqual([metrics(0), metrics(1), metrics(2)]);
    expect(await store.readMetrics('run-a', { fromStep: 1, count: 1 })).toEqual([metrics(1)]);
  });

  it('lists runs newest first and forgets a deleted one', async () => {
    const { store } = openStore();
    await store.createRun('old', {});
    clock += 1;
    await store.createRun('new', {});
    expect(await store.listRuns()).toEqual(['new', 'old']);
    await store.deleteRun('old');
    expect(await store.listRuns()).toEqual(['new']);
    expect(await store.loadRun('old')).toBeNull();
    expect(await store.loadConfig('old', ConfigSchema)).toBeNull();
  });

  it('names the key of a stored value that breaks its schema, and refuses unknown runs', async () => {
    const { store, prefix } = openStore();
    await store.createRun('run-b', { steps: 'many' });
    const bad = await store.loadConfig('run-b', ConfigSchema).catch((e: unknown) => e);
    expect(isDifferadError(bad, 'QUEUE_RUN_STATE_INVALID')).toBe(true);
    expect((bad as DifferadError).details.key).toBe(`${prefix}:run:run-b:config`);
    expect((bad as DifferadError).details.field).toBe('steps');

    await client.hset(`${prefix}:run:run-b:state`, 'weightVersion', '-3');
    expect(isDifferadError(await store.loadRun('run-b').catch((e: unknown) => e), 'QUEUE_RUN_STATE_INVALID')).toBe(true);

    expect(isDifferadError(await store.completeStep('ghost', 0, 1).catch((e: unknown) => e), 'QUEUE_RUN_NOT_FOUND')).toBe(true);
    expect(isDifferadError(await store.setState('ghost', 'running').catch((e: unknown) => e), 'QUEUE_RUN_NOT_FOUND')).toBe(true);
    expect(isDifferadError(await store.loadRun('a:b').catch((e: unknown) => e), 'QUEUE_PAYLOAD_INVALID')).toBe(true);
  });

  it('reads a running run whose owner stopped beating as interrupted, and says how to resume it', async () => {
    const { store, prefix } = openStore();
    await store.createRun('beat', {});
    await store.setState('beat', 'running');
    // Never beaten (a process killed before its first beat) or expired: the same missing key.
    expect(await store.loadRun('beat')).toMatchObject({
      state: 'interrupted',
      message: expect.stringContaining('differad train --resume beat'),
    });
    expect(await store.beat('beat', { pid: 42, host: 'h' }, 5_000)).toBe(true);
    expect(await store.loadRun('beat')).toMatchObject({ state: 'running' });
    expect(await store.loadOwner('beat')).toEqual({ pid: 42, host: 'h', at: clock });
    const ttl = await client.pttl(`${prefix}:run:beat:owner`);
    expect(ttl).toBeGreaterThan(4_000);
    expect(ttl).toBeLessThanOrEqual(5_000);
    // What Redis does when the TTL runs out.
    await client.del(`${prefix}:run:beat:owner`);
    expect((await store.loadRun('beat'))?.state).toBe('interrupted');
    expect(await store.loadOwner('beat')).toBeNull();
    // Other states do not depend on a heartbeat.
    await store.setState('beat', 'paused', 'stopped');
    expect(await store.loadRun('beat')).toMatchObject({ state: 'paused', message: 'stopped' });
  });

  it('a heartbeat on a Redis that lost the run (restarted empty) says so instead of recreating it', async () => {
    const { store, prefix } = openStore();
    expect(await store.beat('gone', { pid: 1, host: 'h' }, 5_000)).toBe(false);
    expect(await client.exists(`${prefix}:run:gone:owner`)).toBe(0);
    await store.createRun('gone', {});
    expect(await store.beat('gone', { pid: 1, host: 'h' }, 5_000)).toBe(true);
    await store.releaseOwner('gone');
    expect(await store.loadOwner('gone')).toBeNull();
  });
});
