import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainConfig } from '@differad/config';
import type { Logger } from '@differad/log';
import type { DifferadMetrics } from '@differad/metrics';
import {
  type CatalogQueues,
  connectRedis,
  createCatalogQueueEvents,
  createCatalogQueues,
  createRedisConnection,
  createRunStore,
  REDIS_URL_ENV,
  type ResolvedRedis,
  resolveRedis,
  type RunStore,
} from '@differad/queue';
import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { type ContextFactory, createContextFactory } from './context-factory.js';
import { forgetEmbeddedRedis, recordEmbeddedRedis, stopLeftoverRedis } from './leftover-redis.js';
import { type LocalServers, startLocalServers } from './local-servers.js';
import { type RunWorkers, startRunWorkers } from './run-workers.js';
import { settleWithin } from './settle-within.js';
import { retireFailedStep } from './step-driver.js';

/**
 * How long stopping may take before what is left is dropped (ms): closing
 * the workers without waiting for their jobs, the queues and the local
 * servers. Their jobs' locks expire and `--resume` takes them over.
 */
export const STOP_DEADLINE_MS = 5_000;

/** The run's Redis (embedded unless DIFFERAD_REDIS_URL is set) and its run store on the producer connection. */
export interface RunRedis {
  readonly url: string;
  readonly embedded: ResolvedRedis['embedded'];
  readonly producer: Redis;
  readonly store: RunStore;
  /** Drops the producer connection and stops an embedded Redis. */
  close(): Promise<void>;
}

/**
 * Opens the run's Redis. An embedded one keeps its data (AOF) in
 * `<runsDir>/.redis`, so `--resume` finds the run's queues and state; a
 * redis-server a killed run left on that folder is stopped first.
 */
export async function openRunRedis(input: {
  readonly runsDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: (line: string) => void;
}): Promise<RunRedis> {
  const redisDir = join(input.runsDir, '.redis');
  await mkdir(redisDir, { recursive: true });
  if (!input.env[REDIS_URL_ENV]?.trim()) {
    const stopped = await stopLeftoverRedis(redisDir);
    if (stopped) input.log(`stopped the redis-server a killed run left on ${redisDir} (${stopped})`);
  }
  const redis = await resolveRedis(input.env, { dir: redisDir });
  if (redis.embedded) await recordEmbeddedRedis(redisDir, redis.embedded);
  input.log(`Redis: ${redis.url}${redis.embedded ? ' (embedded)' : ''}`);
  const stopRedis = async () => {
    await redis.stop();
    if (redis.embedded) await forgetEmbeddedRedis(redisDir);
  };
  const producer = await connectRedis(redis.url, 'producer', 5_000).catch(async (error: unknown) => {
    await stopRedis();
    throw error;
  });
  return {
    url: redis.url,
    embedded: redis.embedded,
    producer,
    store: createRunStore(producer),
    async close() {
      producer.disconnect();
      await stopRedis();
    },
  };
}

/** What runs the run's steps on its Redis: local servers, queues, their events, run contexts and this process's workers. */
export interface RunServices {
  /** The local servers started for `cpu` policy or trainer, and the config with their URLs. */
  readonly local: LocalServers;
  readonly queues: CatalogQueues;
  /** Events of the step queue (what the coordinator waits on), on their own connection. */
  readonly events: QueueEvents;
  readonly eventsConnection: Redis;
  readonly factory: ContextFactory;
  /** Null when `differad worker` processes serve the queues. */
  readonly workers: RunWorkers | null;
  /** The process's metrics, for the step driver. */
  readonly metrics?: DifferadMetrics;
  /**
   * Stops everything within {@link STOP_DEADLINE_MS} per stage: `first`
   * (the step driver) and the workers (at once with `hurry`), the queues,
   * then the local servers; the connections are dropped last.
   */
  close(hurry: boolean, first?: () => Promise<void>): Promise<void>;
}

/** What {@link startRunServices} needs. */
export interface RunServicesInput {
  readonly runId: string;
  readonly runsDir: string;
  readonly runDir: string;
  /** The run's config, its step total as planned. */
  readonly config: TrainConfig;
  /** Resuming: a failed next step is retired (it runs again with new job ids) before any worker starts. */
  readonly resume: boolean;
  readonly inProcessWorkers: boolean;
  readonly lockDurationMs: number;
  readonly log: (line: string) => void;
  /** The workers' logger (failed jobs with their ids and codes; each run's lines with its id). */
  readonly logger?: Logger;
  /** The process's metrics (`--metrics-port`): the catalog queues' counts at every scrape, and what the workers record. */
  readonly metrics?: DifferadMetrics;
}

/**
 * Starts the run's services on `redis`: the local CPU servers the config
 * asks for, the catalog queues, the step queue's events, the context factory
 * and, unless `differad worker` processes serve the queues, the workers.
 */
export async function startRunServices(redis: RunRedis, input: RunServicesInput): Promise<RunServices> {
  const workerConn = createRedisConnection(redis.url, 'worker');
  const eventsConn = createRedisConnection(redis.url, 'events');
  let local: LocalServers | undefined;
  let queues: CatalogQueues | undefined;
  let events: QueueEvents | undefined;
  let stopQueueCounts = (): void => undefined;
  try {
    local = await startLocalServers({ ...input.config, run: { ...input.config.run, runsDir: input.runsDir } }, input.runDir, input.log);
    queues = createCatalogQueues(redis.producer);
    if (input.metrics) stopQueueCounts = input.metrics.collectQueues(Object.values(queues.queues));
    events = createCatalogQueueEvents('step', { connection: eventsConn });
    const metrics = input.metrics ? { metrics: input.metrics } : {};
    const logger = input.logger ? { logger: input.logger } : {};
    const factory = createContextFactory({ redis: redis.producer, queues, store: redis.store, log: input.log, ...logger, ...metrics });
    if (input.resume) {
      // Before any worker may pick up the jobs a failed step left: it runs again with new job ids, not its old error.
      const failed = await retireFailedStep(queues, redis.store, input.runId);
      if (failed !== null) input.log(`the next step failed before (${failed}); it runs again with new job ids`);
    }
    const workers = input.inProcessWorkers
      ? startRunWorkers({ connection: workerConn, factory, lockDurationMs: input.lockDurationMs, ...logger, ...metrics })
      : null;
    const services = createServices({ local, queues, events, factory, workers, workerConn, eventsConn, stopQueueCounts });
    return input.metrics ? { ...services, metrics: input.metrics } : services;
  } catch (error) {
    // What started before the failure stops again: no server or connection outlives a run that never began.
    const [q, e, l] = [queues, events, local];
    stopQueueCounts();
    await settleWithin(Promise.all([e?.close(), q?.close()]), STOP_DEADLINE_MS);
    if (l) await settleWithin(l.close(), STOP_DEADLINE_MS);
    workerConn.disconnect();
    eventsConn.disconnect();
    throw error;
  }
}

function createServices(parts: {
  local: LocalServers;
  queues: CatalogQueues;
  events: QueueEvents;
  factory: ContextFactory;
  workers: RunWorkers | null;
  workerConn: Redis;
  eventsConn: Redis;
  stopQueueCounts: () => void;
}): RunServices {
  const { local, queues, events, factory, workers, workerConn, eventsConn, stopQueueCounts } = parts;
  return {
    local,
    queues,
    events,
    eventsConnection: eventsConn,
    factory,
    workers,
    async close(hurry, first) {
      // Bounded: a step in flight (a stop signal) or a Redis that is gone must not hold the exit.
      await settleWithin(
        (async () => {
          await first?.();
          await workers?.close(hurry);
          if (!workers) await factory.close();
          await events.close();
          stopQueueCounts();
          await queues.close();
        })(),
        STOP_DEADLINE_MS,
      );
      await settleWithin(local.close(), STOP_DEADLINE_MS);
      workerConn.disconnect();
      eventsConn.disconnect();
    },
  };
}
