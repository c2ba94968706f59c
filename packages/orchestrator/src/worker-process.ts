import { DifferadError } from '@differad/core';
import { createLineLogger, type Logger } from '@differad/log';
import type { DifferadMetrics } from '@differad/metrics';
import { connectRedis, createCatalogQueues, createRedisConnection, createRunStore, REDIS_URL_ENV } from '@differad/queue';
import { createContextFactory } from './context-factory.js';
import { startRunWorkers } from './run-workers.js';

export interface WorkerProcessInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: (line: string) => void;
  readonly rolloutConcurrency?: number;
  readonly lockDurationMs?: number;
  /** The process's metrics (`--metrics-port`): queue counts, jobs, and each run's series until {@link FORGET_RUN_AFTER_MS} after its last step. */
  readonly metrics?: DifferadMetrics;
  /** Structured logs (failed jobs with their ids and codes, the runs' diagnostics); default: lines to `log`. */
  readonly logger?: Logger;
}

/** How long a worker keeps a finished run's series: several scrapes at compose's 15 s interval (ms). */
export const FORGET_RUN_AFTER_MS = 5 * 60_000;

/**
 * `differad worker`: a stateless consumer of the training queues of every run
 * on the Redis at DIFFERAD_REDIS_URL. Start as many as you like (compose's
 * `--scale orchestrator=N`); each looks a run up by the job's run id.
 */
export async function startWorkerProcess(input: WorkerProcessInput): Promise<{ close(): Promise<void> }> {
  const url = input.env[REDIS_URL_ENV];
  if (!url)
    throw new DifferadError('WORKER_REDIS_MISSING', `differad worker serves a shared Redis: set ${REDIS_URL_ENV}=redis://host:6379`);
  const producer = await connectRedis(url, 'producer', 5_000);
  const workerConn = createRedisConnection(url, 'worker');
  const store = createRunStore(producer);
  const queues = createCatalogQueues(producer);
  const { metrics } = input;
  const logger = input.logger ?? createLineLogger(input.log);
  const stopQueueCounts = metrics ? metrics.collectQueues(Object.values(queues.queues)) : () => undefined;
  const factory = createContextFactory({ redis: producer, queues, store, log: input.log, logger, ...(metrics ? { metrics } : {}) });
  const workers = startRunWorkers({
    connection: workerConn,
    factory,
    logger,
    ...(input.rolloutConcurrency ? { rolloutConcurrency: input.rolloutConcurrency } : {}),
    ...(input.lockDurationMs ? { lockDurationMs: input.lockDurationMs } : {}),
    ...(metrics ? { metrics, forgetRunAfterMs: FORGET_RUN_AFTER_MS } : {}),
  });
  const redis = url.replace(/\/\/[^@]*@/, '//***@');
  logger.info({ redis }, `worker serving the training queues on ${redis}`);
  return {
    async close() {
      await workers.close();
      stopQueueCounts();
      await queues.close();
      workerConn.disconnect();
      producer.disconnect();
    },
  };
}
