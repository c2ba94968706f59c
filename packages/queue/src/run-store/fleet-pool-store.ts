import { type FleetPool, FleetPoolSchema } from '@differad/core';
import type { Redis } from 'ioredis';
import { toPayloadError, toRunStateError } from '../errors/queue-errors.js';
import { RunIdSchema } from '../catalog/payloads.js';

/**
 * A run's rollout pool in Redis: which inference servers hold which weight
 * version after the last sync (docs/architecture.md §6.1). The step job
 * writes it; rollout workers in any process read it before each request, so
 * membership is not a per-process fact.
 */
export interface FleetPoolStore {
  /** The pool after the run's last sync; null before its first sync (or after the key expired). */
  load(runId: string): Promise<FleetPool | null>;
  /** Replaces the pool (validated first). */
  save(runId: string, pool: FleetPool): Promise<void>;
}

/** How long a pool outlives its last write: a run resumed later than this starts from every server again (and syncs them all). */
export const FLEET_POOL_TTL_SECONDS = 30 * 24 * 3600;

/** The key of a run's pool: `<prefix>:run:<id>:pool`, next to the run store's keys. */
export function toFleetPoolKey(runId: string, prefix = 'differad'): string {
  return `${prefix}:run:${runId}:pool`;
}

function checkRunId(runId: string): void {
  const parsed = RunIdSchema.safeParse(runId);
  if (!parsed.success) throw toPayloadError('run', parsed.error, 'runId');
}

/** The pool store on `redis` (a producer connection); keys under `prefix` (default `differad`). */
export function createFleetPoolStore(redis: Redis, options: { readonly prefix?: string } = {}): FleetPoolStore {
  // Every rollout reads the pool, which changes once a step at most: the last text read and its parse, per key, frozen, so every caller shares it unchanged.
  const parsedTexts = new Map<string, { readonly text: string; readonly pool: FleetPool }>();
  return {
    async load(runId) {
      checkRunId(runId);
      const key = toFleetPoolKey(runId, options.prefix);
      const text = await redis.get(key);
      if (text === null) return null;
      const known = parsedTexts.get(key);
      if (known?.text === text) return known.pool;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const parsed = FleetPoolSchema.safeParse(json);
      if (!parsed.success) throw toRunStateError(key, parsed.error);
      const pool = Object.freeze({ ...parsed.data, members: Object.freeze(parsed.data.members.map((m) => Object.freeze(m))) }) as FleetPool;
      parsedTexts.set(key, { text, pool });
      return pool;
    },
    async save(runId, pool) {
      checkRunId(runId);
      const parsed = FleetPoolSchema.safeParse(pool);
      if (!parsed.success) throw toPayloadError('fleet pool', parsed.error);
      await redis.set(toFleetPoolKey(runId, options.prefix), JSON.stringify(parsed.data), 'EX', FLEET_POOL_TTL_SECONDS);
    },
  };
}
