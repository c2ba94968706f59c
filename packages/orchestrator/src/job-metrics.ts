import type { DifferadMetrics } from '@differad/metrics';
import { parseFailedReason } from '@differad/queue';
import type { Job } from 'bullmq';

/**
 * Whether BullMQ has failed `job` for good with this attempt, as the Worker's
 * `failed` event reports it. In bullmq 5.81.5 (`dist/esm/classes/worker.js`,
 * `handleFailed`) the event is emitted after `job.moveToFailed(err)` for every
 * failed attempt, retried or not; `Job.shouldRetryJob` (`classes/job.js`)
 * retries when `attemptsMade + 1 < opts.attempts` and the error is not an
 * `UnrecoverableError` (by class or by `name`), and `moveToFailed` adds one
 * to `attemptsMade` before the event. So the attempt was the last one when
 * `attemptsMade` has reached `opts.attempts` (no `attempts`: one attempt), or
 * the error was unrecoverable (a non-retryable DifferadError, mapped by
 * `toBullmqError` of @differad/queue).
 */
export function isFinalFailure(job: Pick<Job, 'attemptsMade' | 'opts'> | undefined, error: Error): boolean {
  if (error.name === 'UnrecoverableError' || job === undefined) return true;
  return job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** What {@link observeJobs} needs of a BullMQ `Worker`: its queue name and its job events. */
export interface ObservedWorker {
  readonly name: string;
  on(event: 'completed', listener: (job: Pick<Job, 'processedOn' | 'finishedOn'>) => void): unknown;
  on(event: 'failed', listener: (job: Pick<Job, 'attemptsMade' | 'opts'> | undefined, error: Error) => void): unknown;
}

/**
 * Counts `worker`'s completed jobs (with their processing time, from
 * `processedOn` to `finishedOn` of the successful attempt) and failed
 * attempts (by the error code `toBullmqError` put in front of the message:
 * `differad_jobs_failed_total` when final, `differad_job_retries_total` else),
 * labelled with the worker's queue name as `differad_queue_jobs` is.
 */
export function observeJobs(worker: ObservedWorker, metrics: Pick<DifferadMetrics, 'recordJobCompleted' | 'recordJobFailed'>): void {
  worker.on('completed', (job) => {
    const seconds =
      job.processedOn !== undefined && job.finishedOn !== undefined ? Math.max(0, job.finishedOn - job.processedOn) / 1000 : 0;
    metrics.recordJobCompleted(worker.name, seconds);
  });
  worker.on('failed', (job, error) => {
    metrics.recordJobFailed(worker.name, parseFailedReason(error.message).code ?? undefined, isFinalFailure(job, error));
  });
}

/**
 * A long-lived worker's runs come and go: their series are dropped
 * (`forgetRun`) `afterMs` after the run's last step completed here, once
 * Prometheus has scraped the final values, unless another step of the run
 * starts first (a run extended with `--resume --steps N`).
 */
export function createRunForgetter(metrics: Pick<DifferadMetrics, 'forgetRun'>, afterMs: number) {
  const timers = new Map<string, NodeJS.Timeout>();
  const cancel = (run: string) => {
    clearTimeout(timers.get(run));
    timers.delete(run);
  };
  return {
    stepStarted: cancel,
    lastStepDone(run: string): void {
      cancel(run);
      const timer = setTimeout(() => {
        timers.delete(run);
        metrics.forgetRun(run);
      }, afterMs);
      timer.unref();
      timers.set(run, timer);
    },
    close(): void {
      for (const run of [...timers.keys()]) cancel(run);
    },
  };
}
