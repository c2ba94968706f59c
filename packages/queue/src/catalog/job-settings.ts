import type { JobsOptions } from 'bullmq';
import type { JobName } from './job-names.js';

/** How long BullMQ keeps finished jobs: whichever of `age` (seconds) or `count` is hit first. */
export interface Retention {
  readonly age: number;
  readonly count: number;
}

/** Retry, backoff and retention of one queue's jobs, plus the default worker concurrency. */
export interface JobSettings {
  /** Total tries including the first (BullMQ `attempts`). */
  readonly attempts: number;
  /** First retry delay in ms; doubles on every further retry (BullMQ exponential backoff). */
  readonly backoffMs: number;
  /** Completed jobs are kept this long so that a duplicate enqueue of the same id is still a no-op. */
  readonly removeOnComplete: Retention;
  /** Failed jobs are kept longer, for the dashboard and post-mortems. */
  readonly removeOnFail: Retention;
  /** Jobs one worker process runs at once. */
  readonly concurrency: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const KEEP_DONE: Retention = { age: DAY, count: 10_000 };
const KEEP_FAILED: Retention = { age: 7 * DAY, count: 10_000 };

/**
 * The defaults per queue. Rollouts talk to inference servers (the fleet already
 * retries across servers, so a failed job means the fleet was out for a while:
 * back off seconds). Scoring is pure CPU: few retries. A step calls the trainer,
 * which de-duplicates micro-batches by (run, step, index), so retrying it is safe.
 */
export const DEFAULT_JOB_SETTINGS: { readonly [N in JobName]: JobSettings } = {
  rollout: { attempts: 5, backoffMs: 1000, removeOnComplete: KEEP_DONE, removeOnFail: KEEP_FAILED, concurrency: 16 },
  resample: { attempts: 5, backoffMs: 1000, removeOnComplete: KEEP_DONE, removeOnFail: KEEP_FAILED, concurrency: 16 },
  score: { attempts: 3, backoffMs: 200, removeOnComplete: KEEP_DONE, removeOnFail: KEEP_FAILED, concurrency: 4 },
  step: { attempts: 5, backoffMs: 2000, removeOnComplete: KEEP_DONE, removeOnFail: KEEP_FAILED, concurrency: 1 },
};

/** Per-queue overrides of {@link DEFAULT_JOB_SETTINGS}. */
export type JobSettingsOverrides = { readonly [N in JobName]?: Partial<JobSettings> };

/** The defaults with `overrides` applied, one queue at a time. */
export function resolveJobSettings(overrides: JobSettingsOverrides = {}): { readonly [N in JobName]: JobSettings } {
  const out = { ...DEFAULT_JOB_SETTINGS };
  for (const name of Object.keys(overrides) as JobName[]) {
    out[name] = { ...DEFAULT_JOB_SETTINGS[name], ...overrides[name] };
  }
  return out;
}

/** The BullMQ job options of `settings` for a job with id `jobId`. */
export function toJobsOptions(settings: JobSettings, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: { ...settings.removeOnComplete },
    removeOnFail: { ...settings.removeOnFail },
  };
}
