import { randomUUID } from 'node:crypto';
import type { FleetPool } from '@differad/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../connection/redis-connection.js';
import { type RedisFixture, startRedisFixture } from '../testing/redis-fixture.js';
import { createFleetPoolStore, FLEET_POOL_TTL_SECONDS, toFleetPoolKey } from './fleet-pool-store.js';

let redis: RedisFixture;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisFixture();
  client = redis.producer;
});

afterAll(() => redis.stop());

const POOL: FleetPool = {
  step: 3,
  version: 4,
  members: [
    { url: 'http://a:8000', state: 'in', version: 4 },
    { url: 'http://b:8000', state: 'out', version: null, reason: 'health check failed: connect ECONNREFUSED' },
  ],
};

describe('fleet pool store', () => {
  it('shares the pool through Redis: a store on another connection reads what one wrote, with an expiry', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const writer = createFleetPoolStore(client, { prefix });
    const other = await connectRedis(redis.url, 'producer');
    try {
      const reader = createFleetPoolStore(other, { prefix });
      expect(await reader.load('run-a')).toBeNull();
      await writer.save('run-a', POOL);
      expect(await reader.load('run-a')).toEqual(POOL);
      const ttl = await client.ttl(toFleetPoolKey('run-a', prefix));
      expect(ttl).toBeGreaterThan(FLEET_POOL_TTL_SECONDS - 60);
      await writer.save('run-a', { step: 4, version: 5, members: POOL.members.map((m) => ({ url: m.url, state: 'in', version: 5 })) });
      const read = await reader.load('run-a');
      expect(read?.members.map((m) => m.state)).toEqual(['in', 'in']);
      // Read again unchanged: the same parse, frozen, so no caller can change what the next one reads.
      expect(await reader.load('run-a')).toBe(read);
      expect(() => (read!.members as { state: string }[]).push({ state: 'out' })).toThrow(TypeError);
      expect(() => Object.assign(read!.members[0]!, { state: 'out' })).toThrow(TypeError);
    } finally {
      other.disconnect();
    }
  });

  it('refuses to write a malformed pool and names a stored value that does not parse', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const store = createFleetPoolStore(client, { prefix });
    await expect(store.save('run-b', { ...POOL, version: -1 })).rejects.toMatchObject({ code: 'QUEUE_PAYLOAD_INVALID' });
    await client.set(toFleetPoolKey('run-b', prefix), '{"step":1');
    await expect(store.load('run-b')).rejects.toMatchObject({ code: 'QUEUE_RUN_STATE_INVALID' });
    await expect(store.load('bad id')).rejects.toThrow();
  });
});
