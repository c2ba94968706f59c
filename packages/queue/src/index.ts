/**
 * @differad/queue — the BullMQ adapter: the job catalog of the training loop
 * (queues, zod payloads, deterministic job ids, retry settings, typed enqueue
 * helpers, step flows, typed workers), Redis connections, the embedded
 * redis-server default, and the run store that `--resume` and the dashboard read.
 */
export { QUEUE_ERRORS } from './errors/queue-errors.js';
export { JOB_NAMES, type JobName } from './catalog/job-names.js';
export {
  RunIdSchema,
  type RolloutPayload,
  type ResamplePayload,
  type ScorePayload,
  type StepPayload,
  type JobPayloads,
} from './catalog/payloads.js';
export { toJobId } from './catalog/job-ids.js';
export { DEFAULT_JOB_SETTINGS, toJobsOptions } from './catalog/job-settings.js';
export { parsePayload } from './catalog/parse-payload.js';
export { type CatalogQueueMap, type CatalogQueues, createCatalogQueues } from './catalog/catalog-queues.js';
export { enqueueRollout } from './catalog/enqueue.js';
export { enqueueStepFlow } from './catalog/step-flow.js';
export { redactRedisUrl } from './connection/redis-url.js';
export { createRedisConnection, connectRedis } from './connection/redis-connection.js';
export { type EmbeddedRedis, startEmbeddedRedis } from './embedded/start-embedded-redis.js';
export { REDIS_URL_ENV, type ResolvedRedis, resolveRedis } from './embedded/resolve-redis.js';
export { createCatalogWorker, createCatalogQueueEvents } from './workers/create-catalog-worker.js';
export { parseFailedReason } from './workers/to-bullmq-error.js';
export { type RunState, RunSnapshotSchema, type RunSnapshot, StepMetricsSchema, type StepMetrics } from './run-store/run-store-schemas.js';
export { type RunStore, createRunStore } from './run-store/run-store.js';
export { type FleetPoolStore, createFleetPoolStore } from './run-store/fleet-pool-store.js';
export { type RedisFixture, startRedisFixture } from './testing/redis-fixture.js';
