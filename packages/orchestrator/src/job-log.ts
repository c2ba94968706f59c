import type { Logger } from '@differad/log';
import { parseFailedReason } from '@differad/queue';
import type { Job } from 'bullmq';
import { isFinalFailure } from './job-metrics.js';

/** What a job's payload may say about where it belongs: every catalog payload has runId; most a step; rollouts a pair. */
interface JobPayloadLike {
  readonly runId?: string;
  readonly step?: number;
  readonly pairIndex?: number;
  readonly pairId?: string;
}

type LoggedJob = Pick<Job, 'id' | 'attemptsMade' | 'opts' | 'processedOn' | 'finishedOn'> & { readonly data: unknown };

/** What {@link logJobs} needs of a BullMQ `Worker`: its queue name and its job events. */
export interface LoggedWorker {
  readonly name: string;
  on(event: 'completed', listener: (job: LoggedJob) => void): unknown;
  on(event: 'failed', listener: (job: LoggedJob | undefined, error: Error) => void): unknown;
}

/** The ids of a job's line: run, step, pair slot (its place in the step) and pair id, the job id and queue. */
export function toJobFields(queue: string, job: LoggedJob | undefined): Record<string, unknown> {
  const data = (job?.data ?? {}) as JobPayloadLike;
  return {
    run: data.runId,
    step: data.step,
    ...(data.pairIndex === undefined ? {} : { slot: data.pairIndex }),
    ...(data.pairId === undefined ? {} : { pair: data.pairId }),
    job: job?.id,
    queue,
  };
}

/**
 * Logs `worker`'s jobs: a failed attempt as one line with the job's ids and
 * the error code `toBullmqError` put in front of its reason (error when
 * BullMQ gives up on the job, warn when it retries it), a completed job at
 * debug with its processing time.
 */
export function logJobs(worker: LoggedWorker, logger: Logger): void {
  worker.on('completed', (job) => {
    const duration = job.processedOn !== undefined && job.finishedOn !== undefined ? job.finishedOn - job.processedOn : undefined;
    logger.debug({ ...toJobFields(worker.name, job), duration_ms: duration }, `${worker.name} job done`);
  });
  worker.on('failed', (job, error) => {
    const { code, message } = parseFailedReason(error.message);
    const final = isFinalFailure(job, error);
    const fields = { ...toJobFields(worker.name, job), attempt: job?.attemptsMade, code: code ?? undefined, final };
    if (final) logger.error(fields, `${worker.name} job failed: ${message}`);
    else logger.warn(fields, `${worker.name} job failed, retried: ${message}`);
  });
}
