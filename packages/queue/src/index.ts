/**
 * @differad/queue — the BullMQ adapter: the job catalog of the training loop
 * (queues, zod payloads, deterministic job ids, retry settings, typed enqueue
 * helpers, step flows, typed workers), Redis connections, the embedded
 * redis-server default, and the run store that `--resume` and the dashboard read.
 */
export { QUEUE_ERROR_CODES, QUEUE_ERRORS } from './errors/queue-errors.js';
export { JOB_NAMES, type JobName, isJobName, toQueueName } from './catalog/job-names.js';
export {
  RunIdSchema,
  RolloutPayloadSchema,
  type RolloutPayload,
  ResamplePayloadSchema,
  type ResamplePayload,
  CompletionSchema,
  type Completion,
  CompletionsSourceSchema,
  type CompletionsSource,
  ScorePayloadSchema,
  type ScorePayload,
  StepPayloadSchema,
  type StepPayload,
  PAYLOAD_SCHEMAS,
  type JobPayloads,
} from './catalog/payloads.js';
export { toJobId, parseJobId, type ParsedJobId } from './catalog/job-ids.js';
export {
  type Retention,
  type JobSettings,
  type JobSettingsOverrides,
  DEFAULT_JOB_SETTINGS,
  resolveJobSettings,
  toJobsOptions,
} from './catalog/job-settings.js';
export { parsePayload } from './catalog/parse-payload.js';
export {
  type CatalogOptions,
  type CatalogQueuesOptions,
  type CatalogQueueMap,
  type CatalogQueues,
  createCatalogQueues,
  toQueueNames,
} from './catalog/catalog-queues.js';
export {
  type CatalogJob,
  enqueueJob,
  enqueueRollout,
  enqueueResample,
  enqueueScore,
  enqueueStep,
} from './catalog/enqueue.js';
export { type StepFlowInput, type StepFlowOptions, enqueueStepFlow } from './catalog/step-flow.js';
export {
  type RedisEndpoint,
  type RedisRole,
  PRODUCER_MAX_RETRIES,
  parseRedisUrl,
  redactRedisUrl,
  toRedisOptions,
} from './connection/redis-url.js';
export {
  DEFAULT_REDIS_TIMEOUT_MS,
  type RedisConnectionOptions,
  createRedisConnection,
  connectRedis,
  pingRedis,
} from './connection/redis-connection.js';
export { type EmbeddedRedisOptions, type EmbeddedRedis, type EmbeddedRedisExit, startEmbeddedRedis } from './embedded/start-embedded-redis.js';
export { REDIS_URL_ENV, type ResolvedRedis, type ResolveRedisOptions, resolveRedis } from './embedded/resolve-redis.js';
export {
  type CatalogProcessor,
  type CatalogWorkerOptions,
  createCatalogWorker,
  createCatalogQueueEvents,
} from './workers/create-catalog-worker.js';
export { toBullmqError, type FailedReason, parseFailedReason } from './workers/to-bullmq-error.js';
export {
  RUN_STATES,
  type RunState,
  RunSnapshotSchema,
  type RunSnapshot,
  RunOwnerSchema,
  type RunOwner,
  RunRecoverySchema,
  type RunRecovery,
  StepMetricsSchema,
  type StepMetrics,
} from './run-store/run-store-schemas.js';
export { type RunStore, type RunStoreOptions, createRunStore } from './run-store/run-store.js';
export { type FleetPoolStore, FLEET_POOL_TTL_SECONDS, toFleetPoolKey, createFleetPoolStore } from './run-store/fleet-pool-store.js';
