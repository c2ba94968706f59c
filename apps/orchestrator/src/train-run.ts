import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { decideResumeSteps, DifferadError, isDifferadError, type ResumeSteps, type RunSummary } from '@differad/core';
import { loadManifest, loadPromptPool } from '@differad/datasets';
import {
  connectRedis,
  createCatalogQueueEvents,
  createCatalogQueues,
  createRedisConnection,
  createRunStore,
  REDIS_URL_ENV,
  resolveRedis,
  type RunStore,
} from '@differad/queue';
import { createContextFactory } from './context-factory.js';
import { settleWithin } from './settle-within.js';
import { checkRunNotActive } from './run-owner.js';
import { isRedisConnectionError, watchRun, type RunWatch } from './run-watch.js';
import { checkServers } from './check-servers.js';
import { forgetEmbeddedRedis, recordEmbeddedRedis, stopLeftoverRedis } from './leftover-redis.js';
import { startLocalServers } from './local-servers.js';
import { startRunWorkers } from './run-workers.js';
import { formatStepHeader, formatStepRow } from './step-table.js';
import { createStepDriver, retireFailedStep, type StepDriver } from './step-driver.js';
import { writeRunSummary } from './run-summary-file.js';

export interface TrainRunInput {
  /** The user's config (ignored when resuming: the run's saved config is used). */
  readonly config?: TrainConfig;
  readonly resumeRunId?: string;
  /** With `resumeRunId`: the run's new total step count (more than its completed steps), stored with the run. */
  readonly steps?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly runsDir?: string;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
  /** Run the workers in this process too (default true); false when `differad worker` processes serve the queues. */
  readonly inProcessWorkers?: boolean;
  /** Job lock duration of the in-process workers (`--lock-ms`); default the run's `run.lockMs`. */
  readonly lockDurationMs?: number;
}

/**
 * How long stopping may take before what is left is dropped (ms): closing
 * the workers without waiting for their jobs, the queues and the local
 * servers. Their jobs' locks expire and `--resume` takes them over.
 */
export const STOP_DEADLINE_MS = 5_000;

export interface TrainRunResult {
  readonly runId: string;
  readonly state: 'completed' | 'paused' | 'failed';
  readonly rows: readonly Record<string, number | null>[];
  /** What `summary.json` in the run folder says (held-out before/after/best, reward means, final policy); null if it could not be written. */
  readonly summary: RunSummary | null;
}

function fmtPct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : (v * 100).toFixed(1);
}

function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

/**
 * `differad train`: checks the data, resolves Redis (embedded unless
 * DIFFERAD_REDIS_URL is set) and the servers (starting the CPU policy and
 * trainer when asked), records the run, starts the workers, and drives the
 * steps one after another as BullMQ flows, printing a row per step. With
 * `resumeRunId` it continues from the last completed step, loading the
 * trainer's checkpoint and pushing it to the policy servers first.
 */
export async function trainRun(input: TrainRunInput): Promise<TrainRunResult> {
  const runsDir = resolve(input.runsDir ?? input.config?.run.runsDir ?? 'runs');
  const runId = input.resumeRunId ?? input.config?.run.id ?? newRunId();
  const runDir = join(runsDir, runId);
  let config: TrainConfig;
  if (input.resumeRunId) {
    const saved = await readFile(join(runDir, 'config.json'), 'utf8').catch(() => null);
    if (saved === null) throw new DifferadError('TRAIN_RUN_UNKNOWN', `no run ${runId} under ${runsDir} (looked for ${join(runDir, 'config.json')})`);
    config = TrainConfigSchema.parse(JSON.parse(saved));
  } else {
    if (!input.config) throw new DifferadError('TRAIN_CONFIG_MISSING', 'a training run needs a config');
    config = input.config;
  }
  // Fail on bad data before anything starts.
  const train = await loadManifest(config.data.train);
  if (config.data.eval) await loadManifest(config.data.eval);
  if (config.prompt.pool) await loadPromptPool(config.prompt.pool);
  // And on servers that are down or serve another model: nothing is recorded or started then.
  await checkServers(config);
  await mkdir(runDir, { recursive: true });
  if (!input.resumeRunId) await writeFile(join(runDir, 'config.json'), `${JSON.stringify({ ...config, run: { ...config.run, id: runId, runsDir } }, null, 2)}\n`);

  // A lasting folder for the embedded Redis (AOF), so `--resume` finds the run's queues and state.
  const redisDir = join(runsDir, '.redis');
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
  const producer = await connectRedis(redis.url, 'producer', 5_000);
  const store = createRunStore(producer);
  const resumeCommand = `differad train --resume ${runId} --runs-dir ${runsDir}`;
  if (input.resumeRunId) {
    await checkRunNotActive(store, runId, input.log).catch(async (error: unknown) => {
      producer.disconnect();
      await stopRedis();
      throw error;
    });
    const plan = await planResume(store, runId, config.run.steps, input.steps).catch(async (error: unknown) => {
      producer.disconnect();
      await stopRedis();
      throw error;
    });
    if (plan.steps !== config.run.steps) {
      config = { ...config, run: { ...config.run, steps: plan.steps } };
      // The run folder's config is what a later plain --resume reads: the new total lasts.
      await writeFile(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    }
    const change = plan.kind === 'extend' ? `, extended to ${plan.steps} steps` : plan.kind === 'shorten' ? `, shortened to ${plan.steps} steps` : ` of ${plan.steps}`;
    input.log(`resuming ${runId} at step ${plan.from}${change}`);
    if (plan.from >= plan.steps) input.log(`run ${runId} has completed all ${plan.steps} steps; to train further: differad train --resume ${runId} --steps N`);
  }
  const workerConn = createRedisConnection(redis.url, 'worker');
  const eventsConn = createRedisConnection(redis.url, 'events');
  const local = await startLocalServers({ ...config, run: { ...config.run, runsDir } }, runDir, input.log);
  const queues = createCatalogQueues(producer);
  const events = createCatalogQueueEvents('step', { connection: eventsConn });
  const factory = createContextFactory({ redis: producer, queues, store, log: input.log });
  if (input.resumeRunId) {
    // Before any worker may pick up the jobs a failed step left: it runs again with new job ids, not its old error.
    const failed = await retireFailedStep(queues, store, runId);
    if (failed !== null) input.log(`the next step failed before (${failed}); it runs again with new job ids`);
  }
  const workers = input.inProcessWorkers === false ? null : startRunWorkers({ connection: workerConn, factory, lockDurationMs: input.lockDurationMs ?? config.run.lockMs });
  const rows: Record<string, number | null>[] = [];
  let driver: StepDriver | undefined;
  let watch: RunWatch | undefined;
  // The step job in flight: a Redis that lost it (restarted empty) is found by the watch instead of waited on.
  let stepJobKey: string | null = null;
  // How the run stops (an object: it is set in a callback, which narrowing does not follow).
  const ending: { stop: 'done' | 'signal' | 'lost' } = { stop: 'done' };
  try {
    const resolved = { ...local.config, run: { ...local.config.run, id: runId } };
    if (!(await store.createRun(runId, resolved))) {
      if (!input.resumeRunId) throw new DifferadError('TRAIN_RUN_EXISTS', `run ${runId} exists already; pick another run.id or resume it with --resume ${runId}`);
      await store.updateConfig(runId, resolved);
    }
    watch = watchRun({
      runId,
      store,
      redisUrl: redis.url,
      connections: [producer, eventsConn],
      embedded: redis.embedded,
      graceMs: config.run.redisGraceMs,
      signal: input.signal,
      resumeCommand,
      checkData: async () => (stepJobKey !== null && (await producer.exists(stepJobKey)) === 0 ? `step job ${stepJobKey} is missing` : null),
    });
    const driving = (async () => {
      driver = createStepDriver({ runId, config: resolved, records: train.records, queues, events, store, redis: producer, runDir, log: input.log, signal: input.signal, onStepJob: (key) => (stepJobKey = key) });
      // The trainer put where the run store says (a checkpoint restored if need be), and before step 0 the servers given its starting weights.
      const from = await driver.start();
      await store.setState(runId, 'running');
      if (from === 0) {
        // The starting policy on the held-out set, so the step table can be read against it.
        const ctx = await factory.get(runId);
        if (ctx.evaluate) {
          const base = await ctx.evaluate(-1);
          input.log(`held-out before training: Acc@${config.reward.tau} ${fmtPct(base.eval_acc)} · F1@${config.reward.tau} ${fmtPct(base.eval_f1)} · mIoU ${fmtPct(base.eval_miou)} (${base.eval_n} pairs)`);
          await writeFile(join(runDir, 'baseline-eval.json'), `${JSON.stringify(base)}\n`);
        }
      }
      input.log(`run ${runId}: steps ${from}..${config.run.steps - 1} of ${config.run.steps}, ${config.grpo.pairsPerStep} pairs × G=${config.grpo.groupSize} per step, ${train.records.length} training pairs`);
      input.log(formatStepHeader());
      for (;;) {
        try {
          await driver.run((row) => {
            rows.push(row);
            input.log(formatStepRow(row));
          });
          return;
        } catch (error) {
          if (!isRedisConnectionError(error)) throw error;
          // Redis away: wait for it (the watch gives up after run.redisGraceMs), then pick the step up again by its job id.
          input.log(`Redis connection lost; waiting up to ${config.run.redisGraceMs} ms (run.redisGraceMs) for it`);
          await watch!.whenUp();
        }
      }
    })();
    // Once the race is decided the loop may still be waiting on a step: it is abandoned, never unhandled.
    driving.catch(() => undefined);
    ending.stop = await Promise.race([driving.then(() => 'done' as const), watch.stopped]).catch((error: unknown) => {
      // Redis gone or emptied: nothing to record there, and nothing in flight worth waiting for.
      if (isDifferadError(error, 'TRAIN_REDIS_LOST') || isDifferadError(error, 'TRAIN_REDIS_DATA_LOST')) ending.stop = 'lost';
      throw error;
    });
    const state: TrainRunResult['state'] = ending.stop === 'signal' || input.signal.aborted ? 'paused' : 'completed';
    await settleWithin(store.setState(runId, state, state === 'paused' ? `interrupted; continue with: ${resumeCommand}` : undefined), STOP_DEADLINE_MS);
    // The run's own files, not Redis: a summary never fails a run that trained.
    const summary = await writeRunSummary(runDir, runId, state, config).catch((error: unknown) => {
      input.log(`warning: no ${join(runDir, 'summary.json')}: ${(error as Error).message}`);
      return null;
    });
    return { runId, state, rows, summary };
  } catch (error) {
    if (ending.stop !== 'lost') await settleWithin(store.setState(runId, 'failed', (error as Error).message), STOP_DEADLINE_MS);
    throw error;
  } finally {
    // A lost Redis keeps the owner record until it expires: the run then reads as interrupted.
    await watch?.close(ending.stop !== 'lost');
    // Bounded: a step in flight (a stop signal) or a Redis that is gone must not hold the exit.
    const hurry = ending.stop !== 'done' || input.signal.aborted;
    await settleWithin(
      (async () => {
        await driver?.close();
        await workers?.close(hurry);
        if (!workers) await factory.close();
        await events.close();
        await queues.close();
      })(),
      STOP_DEADLINE_MS,
    );
    await settleWithin(local.close(), STOP_DEADLINE_MS);
    workerConn.disconnect();
    eventsConn.disconnect();
    producer.disconnect();
    await stopRedis();
  }
}

/**
 * Resuming: the run's step count from here on, `steps` (`--steps N`) checked
 * against the steps the run store says are completed. Reads only, so a
 * refused N (TRAIN_STEPS_INVALID) leaves the run as it was.
 */
async function planResume(store: RunStore, runId: string, stored: number, steps: number | undefined): Promise<Exclude<ResumeSteps, { kind: 'invalid' }>> {
  const snapshot = await store.loadRun(runId);
  const completed = (snapshot?.lastCompletedStep ?? -1) + 1;
  const plan = decideResumeSteps({ stored, completed, ...(steps === undefined ? {} : { requested: steps }) });
  if (plan.kind === 'invalid') throw new DifferadError('TRAIN_STEPS_INVALID', `cannot resume run ${runId} with --steps ${steps}: ${plan.reason}`, { details: { runId, completed, steps } });
  return plan;
}
