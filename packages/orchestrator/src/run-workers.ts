import type { Logger } from '@differad/log';
import type { DifferadMetrics } from '@differad/metrics';
import { createCatalogWorker, createFleetPoolStore, createRunStore, type StepPayload } from '@differad/queue';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ContextFactory } from './context-factory.js';
import { createGroupStore, type GroupStore } from './group-store.js';
import { type LoggedWorker, logJobs } from './job-log.js';
import { createRunForgetter, type ObservedWorker, observeJobs } from './job-metrics.js';
import { createRolloutProcessor, type RolloutReads } from './rollout-worker.js';
import type { RunContext } from './run-context.js';
import { createScoreProcessor } from './score-worker.js';
import { createStepProcessor } from './step-worker.js';

export interface RunWorkersOptions {
  readonly connection: Redis;
  readonly factory: ContextFactory;
  readonly namespace?: string;
  /** Rollout jobs in flight per process (each is one request of G completions). */
  readonly rolloutConcurrency?: number;
  /** How long a job's lock lasts before another worker takes it over (ms). */
  readonly lockDurationMs?: number;
  /** The process's metrics: jobs completed and failed per queue, and what the runs' contexts record. */
  readonly metrics?: DifferadMetrics;
  /** A long-lived `differad worker`: drop a run's series this long after its last step (ms); default never. */
  readonly forgetRunAfterMs?: number;
  /** Each failed job attempt (ids and error code), completed jobs at debug, and the workers' connection errors. */
  readonly logger?: Logger;
}

/** The workers of a process. */
export interface RunWorkers {
  /**
   * Stops them. By default after the jobs in hand finish; with `force`, at
   * once: the jobs in hand keep their locks until the lock duration runs out,
   * then any worker (a `--resume`) takes them over.
   */
  close(force?: boolean): Promise<void>;
}

/**
 * Starts the training workers of this process: rollout and resample (the
 * same processor), score, and step. Workers are stateless BullMQ consumers:
 * run as many processes as you like against one Redis; each looks its run up
 * by the job's run id.
 */
export function startRunWorkers(options: RunWorkersOptions): RunWorkers {
  // Commands issued in one tick leave in one socket write (a score's four, a step's slot reads): in --cpu-prof the group store's writes were its main cost.
  const groupConnection = options.connection.duplicate({ enableAutoPipelining: true });
  const groups: GroupStore = createGroupStore(groupConnection);
  // A rollout's round and pool reads go the same way (the run and pool stores on the auto-pipelined connection).
  const reads: RolloutReads = { store: createRunStore(groupConnection), pools: createFleetPoolStore(groupConnection) };
  const perRun = new Map<string, ReturnType<typeof processorsFor>>();
  const processorsFor = (ctx: RunContext) => ({
    rollout: createRolloutProcessor(ctx, groups, reads),
    score: createScoreProcessor(ctx, groups),
    // A fresh process holds no NCCL group: its first nccl sync re-creates it on both sides.
    step: createStepProcessor(ctx, groups, { group: null }),
    lastStep: ctx.config.run.steps - 1,
  });
  const get = async (runId: string) => {
    let p = perRun.get(runId);
    if (!p) {
      p = processorsFor(await options.factory.get(runId));
      perRun.set(runId, p);
    }
    return p;
  };
  const lockMs = options.lockDurationMs;
  const common = {
    connection: options.connection,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    // With a lock duration, stalled jobs are also looked for that often (see createCatalogWorker).
    ...(lockMs === undefined ? {} : { lockDurationMs: lockMs }),
    ...(options.logger ? { onError: (error: Error) => options.logger?.error({ err: error }, `worker: ${error.message}`) } : {}),
  };
  const { metrics } = options;
  const forgetter = metrics && options.forgetRunAfterMs !== undefined ? createRunForgetter(metrics, options.forgetRunAfterMs) : null;
  const observed = <W extends ObservedWorker & LoggedWorker>(worker: W): W => {
    if (metrics) observeJobs(worker, metrics);
    if (options.logger) logJobs(worker, options.logger);
    return worker;
  };
  const step = async (payload: StepPayload, job: Job) => {
    forgetter?.stepStarted(payload.runId);
    const p = await get(payload.runId);
    const row = await p.step(payload, job);
    if (payload.step >= p.lastStep) forgetter?.lastStepDone(payload.runId);
    return row;
  };
  const workers: { close(force?: boolean): Promise<void> }[] = [
    observed(
      createCatalogWorker('rollout', async (payload, job) => (await get(payload.runId)).rollout(payload, job), {
        ...common,
        concurrency: options.rolloutConcurrency ?? 16,
      }),
    ),
    observed(
      createCatalogWorker('resample', async (payload, job) => (await get(payload.runId)).rollout(payload, job), {
        ...common,
        concurrency: options.rolloutConcurrency ?? 16,
      }),
    ),
    observed(
      createCatalogWorker('score', async (payload, job) => (await get(payload.runId)).score(payload, job), { ...common, concurrency: 16 }),
    ),
    observed(createCatalogWorker('step', step, { ...common, concurrency: 1 })),
  ];
  return {
    async close(force = false) {
      forgetter?.close();
      await Promise.all(workers.map((w) => w.close(force)));
      await options.factory.close();
      groupConnection.disconnect();
    },
  };
}
