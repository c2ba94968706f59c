import { QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CatalogOptions } from '../catalog/catalog-queues.js';
import { toBullmqConnection } from '../connection/bullmq-connection.js';
import { toQueueName, type JobName } from '../catalog/job-names.js';
import { DEFAULT_JOB_SETTINGS } from '../catalog/job-settings.js';
import { parsePayload } from '../catalog/parse-payload.js';
import type { JobPayloads } from '../catalog/payloads.js';
import { toBullmqError } from './to-bullmq-error.js';

/** Handles one validated job; what it returns becomes the job's return value (its parent reads it in a flow). */
export type CatalogProcessor<N extends JobName, R> = (payload: JobPayloads[N], job: Job<JobPayloads[N], R, N>) => Promise<R>;

/** Options of {@link createCatalogWorker}; `namespace` and `prefix` must match the producers'. */
export interface CatalogWorkerOptions extends CatalogOptions {
  /** A `createRedisConnection(url, 'worker')` client; BullMQ duplicates it for its blocking reads. The caller closes it. */
  readonly connection: Redis;
  /** Jobs run at once by this worker (default per queue, see DEFAULT_JOB_SETTINGS). */
  readonly concurrency?: number;
  /** How long a job's lock lasts without renewal before it counts as stalled (BullMQ default 30 s). */
  readonly lockDurationMs?: number;
  /**
   * How often this worker looks for stalled jobs (a dead worker's) to take
   * over. BullMQ checks every 30 s whatever the lock duration; default here:
   * half the lock duration when one is given, as often as BullMQ renews a lock
   * (`lockRenewTime`, half the lock duration). A job is taken over at the first
   * check after its lock expired that finds it marked by an earlier check:
   * at most 1.5 lock durations after its worker died.
   */
  readonly stalledIntervalMs?: number;
  /** Start pulling jobs at once (default true); else call `worker.run()`. */
  readonly autorun?: boolean;
  /**
   * Connection and internal errors of the worker (not job failures: see the
   * `failed` event). Default: a process warning. A listener is always attached
   * because an EventEmitter without one would crash the process.
   */
  readonly onError?: (error: Error) => void;
}

/**
 * A BullMQ worker for catalog queue `name`: validates each payload with the
 * queue's zod schema first (a bad one fails at once as QUEUE_PAYLOAD_INVALID),
 * then runs `processor`; a non-retryable DifferadError it throws becomes
 * BullMQ's `UnrecoverableError` (no retries), a retryable one is retried with
 * the queue's backoff. The caller closes the worker (`await worker.close()`).
 */
export function createCatalogWorker<N extends JobName, R>(
  name: N,
  processor: CatalogProcessor<N, R>,
  options: CatalogWorkerOptions,
): Worker<JobPayloads[N], R, N> {
  const stalledInterval =
    options.stalledIntervalMs ?? (options.lockDurationMs === undefined ? undefined : Math.max(250, Math.round(options.lockDurationMs / 2)));
  const worker = new Worker<JobPayloads[N], R, N>(
    toQueueName(name, options.namespace),
    async (job) => {
      try {
        return await processor(parsePayload(name, job.data), job);
      } catch (error) {
        throw toBullmqError(error);
      }
    },
    {
      connection: toBullmqConnection(options.connection),
      concurrency: options.concurrency ?? DEFAULT_JOB_SETTINGS[name].concurrency,
      autorun: options.autorun ?? true,
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
      ...(stalledInterval === undefined ? {} : { stalledInterval }),
    },
  );
  const onError = options.onError ?? ((error: Error) => process.emitWarning(error));
  worker.on('error', onError);
  return worker;
}

/**
 * BullMQ queue events of catalog queue `name` (completed, failed, progress…
 * from any process), e.g. for `job.waitUntilFinished(events)`. `connection`
 * is an 'events' connection; the caller closes the result.
 */
export function createCatalogQueueEvents(name: JobName, options: CatalogOptions & { readonly connection: Redis }): QueueEvents {
  return new QueueEvents(toQueueName(name, options.namespace), {
    connection: toBullmqConnection(options.connection),
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
}
