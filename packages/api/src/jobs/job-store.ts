import { DifferadError } from '@differad/core';
import type { Redis } from 'ioredis';
import { JobSnapshotSchema, type JobKind, type JobSnapshot, type JobState } from '../schemas/job-schemas.js';

/** Evaluation and synthesis jobs in Redis, next to the run store's runs. */
export interface JobStore {
  /** Records a new running job; false when the id exists (nothing changes then). */
  create(job: { kind: JobKind; id: string; outDir: string; spec: Record<string, unknown> }): Promise<boolean>;
  /** The job, or null. */
  load(kind: JobKind, id: string): Promise<JobSnapshot | null>;
  /** Jobs of `kind`, newest first. */
  list(kind: JobKind, limit?: number): Promise<JobSnapshot[]>;
  /** Moves a job to `state` (a finished job stays finished: false then). */
  finish(
    kind: JobKind,
    id: string,
    state: Exclude<JobState, 'running'>,
    outcome: { message?: string; exitCode?: number | null },
  ): Promise<boolean>;
}

/** Options of {@link createJobStore}. */
export interface JobStoreOptions {
  /** Key prefix shared with the run store (default `differad`): `<prefix>:job:<kind>:<id>`, `<prefix>:jobs:<kind>`. */
  readonly prefix?: string;
  readonly now?: () => number;
}

// Only a running job may finish, so a late exit handler cannot overwrite a cancel.
const FINISH = `
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'updatedAt', ARGV[2], 'exitCode', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'message', ARGV[4]) end
return 1`;

function fromHash(key: string, hash: Record<string, string>): JobSnapshot {
  let spec: unknown;
  try {
    spec = JSON.parse(hash.spec ?? '{}');
  } catch (cause) {
    throw new DifferadError('API_JOB_STATE_INVALID', `job state ${key} has a spec that is not JSON`, { cause, details: { key } });
  }
  const parsed = JobSnapshotSchema.safeParse({
    id: hash.id,
    kind: hash.kind,
    state: hash.state,
    ...(hash.message ? { message: hash.message } : {}),
    outDir: hash.outDir,
    exitCode: hash.exitCode === undefined || hash.exitCode === '' ? null : Number(hash.exitCode),
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt),
    spec,
  });
  if (!parsed.success)
    throw new DifferadError('API_JOB_STATE_INVALID', `job state ${key} is invalid: ${parsed.error.message}`, { details: { key } });
  return parsed.data;
}

/** The job store on a producer connection. */
export function createJobStore(redis: Redis, options: JobStoreOptions = {}): JobStore {
  const prefix = options.prefix ?? 'differad';
  const now = options.now ?? Date.now;
  const jobKey = (kind: JobKind, id: string) => `${prefix}:job:${kind}:${id}`;
  const listKey = (kind: JobKind) => `${prefix}:jobs:${kind}`;
  const load = async (kind: JobKind, id: string): Promise<JobSnapshot | null> => {
    const hash = await redis.hgetall(jobKey(kind, id));
    return Object.keys(hash).length === 0 ? null : fromHash(jobKey(kind, id), hash);
  };
  return {
    async create(job) {
      const at = now();
      const key = jobKey(job.kind, job.id);
      const fields = {
        id: job.id,
        kind: job.kind,
        state: 'running',
        outDir: job.outDir,
        exitCode: '',
        createdAt: at,
        updatedAt: at,
        spec: JSON.stringify(job.spec),
      };
      // HSETNX on `id` claims the key; the other fields follow in one MULTI.
      if ((await redis.hsetnx(key, 'id', job.id)) === 0) return false;
      await redis.multi().hset(key, fields).zadd(listKey(job.kind), at, job.id).exec();
      return true;
    },
    load,
    async list(kind, limit = 100) {
      const ids = await redis.zrevrange(listKey(kind), 0, limit - 1);
      const jobs = await Promise.all(ids.map((id) => load(kind, id)));
      return jobs.filter((j): j is JobSnapshot => j !== null);
    },
    async finish(kind, id, state, outcome) {
      const exitCode = outcome.exitCode === undefined || outcome.exitCode === null ? '' : String(outcome.exitCode);
      return (await redis.eval(FINISH, 1, jobKey(kind, id), state, now(), exitCode, outcome.message ?? '')) === 1;
    },
  };
}
