import { DifferadError } from '@differad/core';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { RunIdSchema } from '../catalog/payloads.js';
import { QUEUE_ERROR_CODES, toPayloadError, toRunStateError } from '../errors/queue-errors.js';
import { toRunKeys } from './run-keys.js';
import {
  RunOwnerSchema,
  RunRecoverySchema,
  RunSnapshotSchema,
  StepMetricsSchema,
  type RunOwner,
  type RunRecovery,
  type RunSnapshot,
  type RunState,
  type StepMetrics,
} from './run-store-schemas.js';

/** A run's durable state in Redis: what `differad train --resume` and the dashboard read. */
export interface RunStore {
  /** Records a new run with its (already validated) config; false when the id exists (nothing is changed then). */
  createRun(runId: string, config: unknown): Promise<boolean>;
  /** Replaces the config of an existing run (a resumed run's servers have new addresses); QUEUE_RUN_NOT_FOUND otherwise. */
  updateConfig(runId: string, config: unknown): Promise<void>;
  /** The run's config parsed with `schema`; null for an unknown run; QUEUE_RUN_STATE_INVALID when it does not parse. */
  loadConfig<T>(runId: string, schema: z.ZodType<T>): Promise<T | null>;
  /**
   * The run's status; null for an unknown run. A run stored as `running`
   * whose owner's heartbeat has expired reads as `interrupted`.
   */
  loadRun(runId: string): Promise<RunSnapshot | null>;
  /**
   * The heartbeat of the process driving the run: records `owner` for `ttlMs`.
   * False when the run's state is gone from Redis (a Redis that came back
   * without its data), so the caller can stop instead of waiting on lost jobs.
   */
  beat(runId: string, owner: Omit<RunOwner, 'at'>, ttlMs: number): Promise<boolean>;
  /** The live owner of the run (its heartbeat has not expired), or null. */
  loadOwner(runId: string): Promise<RunOwner | null>;
  /** Drops the owner record (the run stopped in an orderly way). */
  releaseOwner(runId: string): Promise<void>;
  /** Run ids, newest first. */
  listRuns(limit?: number): Promise<string[]>;
  /** Sets the run's state (with a reason for `paused`/`failed`); QUEUE_RUN_NOT_FOUND for an unknown run. */
  setState(runId: string, state: RunState, message?: string): Promise<void>;
  /**
   * Marks `step` done at `weightVersion`, and with `checkpoint: true` records
   * that the trainer saved a checkpoint of it (in the same write, so the
   * recorded checkpoint is never past the last completed step). Only moves
   * forward: a retried or duplicated completion of an older step returns
   * false and changes nothing.
   */
  completeStep(runId: string, step: number, weightVersion: number, options?: { readonly checkpoint?: boolean }): Promise<boolean>;
  /** What putting the trainer back needs: last completed step, weight version, last saved checkpoint, step round; null for an unknown run. */
  loadRecovery(runId: string): Promise<RunRecovery | null>;
  /** The run's step round alone (what a job of a round the run has left checks, once per rollout): one field, not the state hash; null for an unknown run. */
  loadRound(runId: string): Promise<number | null>;
  /**
   * Rewinds the run to `toStep` (null: before step 0) at `weightVersion`:
   * the metrics of later steps are deleted (so their replay appends them
   * again), a checkpoint past `toStep` is forgotten, and the step round goes
   * up by one, so the steps run from here get new job ids. Returns the new
   * round. With `toStep` the last completed step it only starts a new round
   * (a failed step retried). QUEUE_RUN_NOT_FOUND for an unknown run.
   */
  rewindRun(runId: string, toStep: number | null, weightVersion: number): Promise<number>;
  /** Appends a step's metrics once: a second append for the same or an older step returns false. */
  appendMetrics(runId: string, metrics: StepMetrics): Promise<boolean>;
  /** Step metrics in step order, from `fromStep` (default 0), at most `count` (default all). */
  readMetrics(runId: string, options?: { readonly fromStep?: number; readonly count?: number }): Promise<StepMetrics[]>;
  /** Removes every key of the run. */
  deleteRun(runId: string): Promise<void>;
}

/** Options of {@link createRunStore}. */
export interface RunStoreOptions {
  /** Key prefix (default `differad`): keys are `<prefix>:run:<id>:…`. */
  readonly prefix?: string;
  /** Unix ms clock for `createdAt`/`updatedAt` (default `Date.now`). */
  readonly now?: () => number;
}

// Atomic read-compare-write so that two workers finishing the same step cannot move it backwards.
const COMPLETE_STEP = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local last = redis.call('HGET', KEYS[1], 'lastCompletedStep')
if last and last ~= '' and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'lastCompletedStep', ARGV[1], 'weightVersion', ARGV[2], 'updatedAt', ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'checkpointStep', ARGV[1], 'checkpointWeightVersion', ARGV[2]) end
return 1`;

// Rewind: position back, later metrics out, the round up. A stream refuses ids at or below its
// last one even after XDEL, so the kept entries are written into a new stream under the same key.
const REWIND_RUN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local to = ARGV[1]
redis.call('HSET', KEYS[1], 'lastCompletedStep', to, 'weightVersion', ARGV[2], 'updatedAt', ARGV[3])
local cp = redis.call('HGET', KEYS[1], 'checkpointStep')
if cp and cp ~= '' and (to == '' or tonumber(cp) > tonumber(to)) then redis.call('HDEL', KEYS[1], 'checkpointStep', 'checkpointWeightVersion') end
local kept = {}
if to ~= '' then kept = redis.call('XRANGE', KEYS[2], '-', to .. '-18446744073709551615') end
redis.call('DEL', KEYS[2])
for _, entry in ipairs(kept) do redis.call('XADD', KEYS[2], entry[1], unpack(entry[2])) end
return redis.call('HINCRBY', KEYS[1], 'round', 1)`;

const SET_STATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'updatedAt', ARGV[2])
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'message') else redis.call('HSET', KEYS[1], 'message', ARGV[3]) end
return 1`;

const BEAT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1`;

/** What a reader is told about a run whose process stopped beating. */
function toInterruptedMessage(runId: string): string {
  return `its process stopped (killed, crashed or cut off from Redis) while it was running; continue with: differad train --resume ${runId}`;
}

function checkRunId(runId: string): void {
  const parsed = RunIdSchema.safeParse(runId);
  if (!parsed.success) throw toPayloadError('run', parsed.error, 'runId');
}

function notFound(runId: string): DifferadError {
  return new DifferadError(QUEUE_ERROR_CODES.RUN_NOT_FOUND, `no run ${runId} in the run store`, { details: { runId } });
}

/** Hash fields (all strings) → the snapshot shape, before validation. */
function fromHash(hash: Record<string, string>): unknown {
  const int = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  return {
    runId: hash.runId,
    state: hash.state,
    ...(hash.message === undefined ? {} : { message: hash.message }),
    lastCompletedStep: hash.lastCompletedStep === '' ? null : int(hash.lastCompletedStep),
    weightVersion: int(hash.weightVersion),
    createdAt: int(hash.createdAt),
    updatedAt: int(hash.updatedAt),
  };
}

function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DifferadError(QUEUE_ERROR_CODES.RUN_STATE_INVALID, `run state ${key} is not JSON`, { cause: error, details: { key } });
  }
}

/**
 * The run store on `redis` (a producer connection: calls fail fast while Redis
 * is away). Reads are validated with zod; a bad value is QUEUE_RUN_STATE_INVALID
 * naming the key.
 */
export function createRunStore(redis: Redis, options: RunStoreOptions = {}): RunStore {
  const keys = toRunKeys(options.prefix);
  const now = options.now ?? Date.now;

  return {
    async createRun(runId, config) {
      checkRunId(runId);
      const created = await redis.set(keys.config(runId), JSON.stringify(config), 'NX');
      if (created !== 'OK') return false;
      const at = now();
      await redis
        .multi()
        .hset(keys.state(runId), { runId, state: 'created', lastCompletedStep: '', weightVersion: 0, createdAt: at, updatedAt: at })
        .zadd(keys.runs, at, runId)
        .exec();
      return true;
    },

    async updateConfig(runId, config) {
      checkRunId(runId);
      const updated = await redis.set(keys.config(runId), JSON.stringify(config), 'XX');
      if (updated !== 'OK') throw notFound(runId);
    },

    async loadConfig(runId, schema) {
      checkRunId(runId);
      const key = keys.config(runId);
      const text = await redis.get(key);
      if (text === null) return null;
      const parsed = schema.safeParse(parseJson(key, text));
      if (!parsed.success) throw toRunStateError(key, parsed.error);
      return parsed.data;
    },

    async loadRun(runId) {
      checkRunId(runId);
      const key = keys.state(runId);
      // One round trip, so the state and the owner are seen at the same moment.
      const replies = await redis.multi().hgetall(key).exists(keys.owner(runId)).exec();
      const [hashReply, ownerReply] = replies ?? [];
      if (hashReply?.[0]) throw hashReply[0];
      const hash = (hashReply?.[1] ?? {}) as Record<string, string>;
      if (Object.keys(hash).length === 0) return null;
      const parsed = RunSnapshotSchema.safeParse(fromHash(hash));
      if (!parsed.success) throw toRunStateError(key, parsed.error);
      if (parsed.data.state === 'running' && ownerReply?.[1] === 0)
        return { ...parsed.data, state: 'interrupted', message: toInterruptedMessage(runId) };
      return parsed.data;
    },

    async beat(runId, owner, ttlMs) {
      checkRunId(runId);
      const record: RunOwner = { ...owner, at: now() };
      return (
        (await redis.eval(BEAT, 2, keys.state(runId), keys.owner(runId), JSON.stringify(record), Math.max(1, Math.round(ttlMs)))) === 1
      );
    },

    async loadOwner(runId) {
      checkRunId(runId);
      const key = keys.owner(runId);
      const text = await redis.get(key);
      if (text === null) return null;
      const parsed = RunOwnerSchema.safeParse(parseJson(key, text));
      if (!parsed.success) throw toRunStateError(key, parsed.error);
      return parsed.data;
    },

    async releaseOwner(runId) {
      checkRunId(runId);
      await redis.del(keys.owner(runId));
    },

    async listRuns(limit = 100) {
      return redis.zrevrange(keys.runs, 0, limit - 1);
    },

    async setState(runId, state, message) {
      checkRunId(runId);
      const updated = await redis.eval(SET_STATE, 1, keys.state(runId), state, now(), message ?? '');
      if (updated === 0) throw notFound(runId);
    },

    async completeStep(runId, step, weightVersion, options = {}) {
      checkRunId(runId);
      const result = await redis.eval(
        COMPLETE_STEP,
        1,
        keys.state(runId),
        step,
        weightVersion,
        now(),
        options.checkpoint === true ? '1' : '0',
      );
      if (result === -1) throw notFound(runId);
      return result === 1;
    },

    async loadRecovery(runId) {
      checkRunId(runId);
      const key = keys.state(runId);
      const hash = await redis.hgetall(key);
      if (Object.keys(hash).length === 0) return null;
      const int = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));
      const checkpointStep = int(hash.checkpointStep);
      const parsed = RunRecoverySchema.safeParse({
        lastCompletedStep: int(hash.lastCompletedStep),
        weightVersion: int(hash.weightVersion),
        checkpoint: checkpointStep === null ? null : { step: checkpointStep, weightVersion: int(hash.checkpointWeightVersion) },
        round: int(hash.round) ?? 0,
      });
      if (!parsed.success) throw toRunStateError(key, parsed.error);
      return parsed.data;
    },

    async loadRound(runId) {
      checkRunId(runId);
      const key = keys.state(runId);
      const [id, round] = await redis.hmget(key, 'runId', 'round');
      if (id === null) return null;
      const parsed = RunRecoverySchema.shape.round.safeParse(round === null || round === '' ? 0 : Number(round));
      if (!parsed.success) throw toRunStateError(key, parsed.error);
      return parsed.data;
    },

    async rewindRun(runId, toStep, weightVersion) {
      checkRunId(runId);
      const result = await redis.eval(
        REWIND_RUN,
        2,
        keys.state(runId),
        keys.metrics(runId),
        toStep === null ? '' : toStep,
        weightVersion,
        now(),
      );
      if (result === -1) throw notFound(runId);
      return Number(result);
    },

    async appendMetrics(runId, metrics) {
      checkRunId(runId);
      const parsed = StepMetricsSchema.safeParse(metrics);
      if (!parsed.success) throw toPayloadError('metrics', parsed.error);
      try {
        // The entry id is the step, so Redis itself refuses a second entry for a step.
        await redis.xadd(keys.metrics(runId), `${parsed.data.step}-1`, 'json', JSON.stringify(parsed.data));
        return true;
      } catch (error) {
        if (error instanceof Error && error.message.includes('equal or smaller')) return false;
        throw error;
      }
    },

    async readMetrics(runId, range = {}) {
      checkRunId(runId);
      const key = keys.metrics(runId);
      const from = `${range.fromStep ?? 0}-0`;
      const entries =
        range.count === undefined ? await redis.xrange(key, from, '+') : await redis.xrange(key, from, '+', 'COUNT', range.count);
      return entries.map(([id, fields]) => {
        const at = fields.indexOf('json');
        const json = at < 0 ? undefined : fields[at + 1];
        const parsed = StepMetricsSchema.safeParse(json === undefined ? undefined : parseJson(`${key}#${id}`, json));
        if (!parsed.success) throw toRunStateError(`${key}#${id}`, parsed.error);
        return parsed.data;
      });
    },

    async deleteRun(runId) {
      checkRunId(runId);
      await redis.multi().del(keys.config(runId), keys.state(runId), keys.metrics(runId), keys.owner(runId)).zrem(keys.runs, runId).exec();
    },
  };
}
