import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainConfig } from '@differad/config';
import { DifferadError, isDifferadError, type ManifestRecord, type RunSummary } from '@differad/core';
import { type Logger, toLineSink } from '@differad/log';
import type { ResolvedTrainConfig } from './context-factory.js';
import type { RunRedis, RunServices } from './run-resources.js';
import { STOP_DEADLINE_MS } from './run-resources.js';
import { writeRunSummary } from './run-summary-file.js';
import { isRedisConnectionError, type RunWatch, watchRun } from './run-watch.js';

/** Pause before the step loop tries Redis again after a connection error, and how often it says it is waiting. */
const REDIS_RETRY_MS = 250;
const REDIS_WARN_EVERY_MS = 5_000;
import { settleWithin } from './settle-within.js';
import { createStepDriver, type StepDriver } from './step-driver.js';
import { formatStepHeader, formatStepRow } from './step-table.js';

export interface TrainRunResult {
  readonly runId: string;
  readonly state: 'completed' | 'paused' | 'failed';
  readonly rows: readonly Record<string, number | null>[];
  /** What `summary.json` in the run folder says (held-out before/after/best, reward means, final policy); null if it could not be written. */
  readonly summary: RunSummary | null;
}

/** What a run's drive needs: the run, its resources, and where to report. */
export interface RunDriveDeps {
  readonly runId: string;
  readonly runDir: string;
  /** The run's config, its step total as planned. */
  readonly config: TrainConfig;
  /** Resuming: the run exists in the run store already. */
  readonly resume: boolean;
  /** Training pairs in manifest order. */
  readonly records: readonly ManifestRecord[];
  readonly redis: RunRedis;
  readonly services: RunServices;
  /** What the run says to continue it once stopped. */
  readonly resumeCommand: string;
  /** The step table and the held-out results before training. */
  readonly log: (line: string) => void;
  /** Everything else the run reports (bound to its id). */
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** A run driven step by step on its resources, and let go of when it ends. */
export interface RunDrive {
  /** Records the run, runs its steps to the total (or until stopped), records how it ended and writes summary.json. */
  run(): Promise<TrainRunResult>;
  /**
   * Stops watching Redis (a lost Redis keeps the owner record until it
   * expires: the run then reads as interrupted) and says how the resources
   * stop: in a hurry when the run did not end by itself, the step driver
   * first.
   */
  release(): Promise<{ readonly hurry: boolean; readonly closeDriver: () => Promise<void> }>;
}

function fmtPct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : (v * 100).toFixed(1);
}

/**
 * The coordinator's side of `differad train` once its resources run: records
 * the run, watches Redis, puts the trainer where the run store says, runs the
 * held-out evaluation before step 0, then drives the steps (core decisions in
 * the workers, trainer sync in the step driver), printing a row per step and
 * picking a step up again by its job id after Redis came back.
 */
export function createRunDrive(deps: RunDriveDeps): RunDrive {
  const { runId, config, redis, services, log } = deps;
  const diag = toLineSink(deps.logger);
  const { store, producer } = redis;
  let driver: StepDriver | undefined;
  let watch: RunWatch | undefined;
  // The step job in flight: a Redis that lost it (restarted empty) is found by the watch instead of waited on.
  let stepJobKey: string | null = null;
  // How the run stops (an object: it is set in a callback, which narrowing does not follow).
  const ending: { stop: 'done' | 'signal' | 'lost' } = { stop: 'done' };

  async function driveSteps(resolved: ResolvedTrainConfig, rows: Record<string, number | null>[]): Promise<void> {
    driver = createStepDriver({
      runId,
      config: resolved,
      records: deps.records,
      queues: services.queues,
      events: services.events,
      store,
      redis: producer,
      runDir: deps.runDir,
      log: diag,
      signal: deps.signal,
      onStepJob: (key) => (stepJobKey = key),
      ...(services.metrics ? { metrics: services.metrics } : {}),
    });
    // The trainer put where the run store says (a checkpoint restored if need be), and before step 0 the servers given its starting weights.
    const from = await driver.start();
    await store.setState(runId, 'running');
    if (from === 0) {
      // The starting policy on the held-out set, so the step table can be read against it.
      const ctx = await services.factory.get(runId);
      if (ctx.evaluate) {
        const base = await ctx.evaluate(-1);
        log(
          `held-out before training: Acc@${config.reward.tau} ${fmtPct(base.eval_acc)} · F1@${config.reward.tau} ${fmtPct(base.eval_f1)} · mIoU ${fmtPct(base.eval_miou)} (${base.eval_n} pairs)`,
        );
        await writeFile(join(deps.runDir, 'baseline-eval.json'), `${JSON.stringify(base)}\n`);
      }
    }
    log(
      `run ${runId}: steps ${from}..${config.run.steps - 1} of ${config.run.steps}, ${config.grpo.pairsPerStep} pairs × G=${config.grpo.groupSize} per step, ${deps.records.length} training pairs`,
    );
    log(formatStepHeader());
    let warnedAt = -Infinity;
    for (;;) {
      try {
        await driver.run((row) => {
          rows.push(row);
          log(formatStepRow(row));
        });
        return;
      } catch (error) {
        // The run was recorded when this run started: a store that no longer knows it has lost its data.
        if (isDifferadError(error, 'TRAIN_RUN_UNKNOWN')) throw watch!.dataLost("the run's state is gone");
        if (!isRedisConnectionError(error)) throw error;
        // Redis away: wait for it (the watch gives up after run.redisGraceMs), then pick the step up again by its job id.
        if (performance.now() - warnedAt > REDIS_WARN_EVERY_MS) {
          diag(`warning: Redis connection lost; waiting up to ${config.run.redisGraceMs} ms (run.redisGraceMs) for it`);
          warnedAt = performance.now();
        }
        // Never at once: the failed command may have been on a connection the watch does not follow, and
        // until a watched one notices, whenUp resolves at once — a loop that would starve the watch's timers.
        await Promise.all([watch!.whenUp(), new Promise((resolve) => setTimeout(resolve, REDIS_RETRY_MS))]);
      }
    }
  }

  return {
    async run() {
      const rows: Record<string, number | null>[] = [];
      try {
        const resolved: ResolvedTrainConfig = { ...services.local.config, run: { ...services.local.config.run, id: runId } };
        if (!(await store.createRun(runId, resolved))) {
          if (!deps.resume)
            throw new DifferadError(
              'TRAIN_RUN_EXISTS',
              `run ${runId} exists already; pick another run.id or resume it with --resume ${runId}`,
            );
          await store.updateConfig(runId, resolved);
        }
        watch = watchRun({
          runId,
          store,
          redisUrl: redis.url,
          connections: [producer, services.eventsConnection],
          embedded: redis.embedded,
          graceMs: config.run.redisGraceMs,
          signal: deps.signal,
          resumeCommand: deps.resumeCommand,
          checkData: async () =>
            stepJobKey !== null && (await producer.exists(stepJobKey)) === 0 ? `step job ${stepJobKey} is missing` : null,
        });
        const driving = driveSteps(resolved, rows);
        // Once the race is decided the loop may still be waiting on a step: it is abandoned, never unhandled.
        driving.catch(() => undefined);
        ending.stop = await Promise.race([driving.then(() => 'done' as const), watch.stopped]).catch((error: unknown) => {
          // Redis gone or emptied: nothing to record there, and nothing in flight worth waiting for.
          if (isDifferadError(error, 'TRAIN_REDIS_LOST') || isDifferadError(error, 'TRAIN_REDIS_DATA_LOST')) ending.stop = 'lost';
          throw error;
        });
        const state: TrainRunResult['state'] = ending.stop === 'signal' || deps.signal.aborted ? 'paused' : 'completed';
        await settleWithin(
          store.setState(runId, state, state === 'paused' ? `interrupted; continue with: ${deps.resumeCommand}` : undefined),
          STOP_DEADLINE_MS,
        );
        // The run's own files, not Redis: a summary never fails a run that trained.
        const summary = await writeRunSummary(deps.runDir, runId, state, config).catch((error: unknown) => {
          diag(`warning: no ${join(deps.runDir, 'summary.json')}: ${(error as Error).message}`);
          return null;
        });
        return { runId, state, rows, summary };
      } catch (error) {
        if (ending.stop !== 'lost') await settleWithin(store.setState(runId, 'failed', (error as Error).message), STOP_DEADLINE_MS);
        throw error;
      }
    },
    async release() {
      await watch?.close(ending.stop !== 'lost');
      return { hurry: ending.stop !== 'done' || deps.signal.aborted, closeDriver: async () => driver?.close() };
    },
  };
}
