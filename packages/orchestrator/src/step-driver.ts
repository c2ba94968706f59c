import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decideTrainerSync, DifferadError, drawStepPairs, type ManifestRecord } from '@differad/core';
import { createVllmControl } from '@differad/inference';
import type { DifferadMetrics } from '@differad/metrics';
import { type CatalogQueues, createFleetPoolStore, parseFailedReason, type RunStore, type StepPayload, toJobId } from '@differad/queue';
import { createTrainerClient, type HealthResponse, type TrainerClient } from '@differad/trainer-client';
import { Job, type QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ResolvedTrainConfig } from './context-factory.js';
import { createStepFlows } from './step-lookahead.js';
import type { StepRow } from './step-worker.js';
import { TRAINER_STATE_CODE } from './step-worker.js';
import { syncFleet } from './sync-fleet.js';
import { withTrainerTiming } from './timed-trainer.js';
import { toTrainerPosition } from './trainer-position.js';

/** How often one process puts the trainer back before it gives up (a trainer that keeps restarting). */
export const MAX_TRAINER_RESTORES = 5;

/** What the coordinator's step loop needs. */
export interface StepDriverDeps {
  readonly runId: string;
  /** The run's resolved config (server URLs), with its step total as planned. */
  readonly config: ResolvedTrainConfig;
  /** Training pairs in manifest order. */
  readonly records: readonly ManifestRecord[];
  readonly queues: CatalogQueues;
  readonly events: QueueEvents;
  readonly store: RunStore;
  /** A producer connection (the step's group keys). */
  readonly redis: Redis;
  readonly runDir: string;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
  /** Told the Redis key of the step job being waited on (null between steps). */
  readonly onStepJob?: (key: string | null) => void;
  /** The process's metrics: the coordinator's trainer calls and its weight syncs (start, resume, restore). */
  readonly metrics?: DifferadMetrics;
}

/** The coordinator's step loop with the trainer kept on the run store (docs/architecture.md §4.4). */
export interface StepDriver {
  /** Puts the trainer where the run store says (restoring a checkpoint if need be) and returns the first step to run. */
  start(): Promise<number>;
  /** Runs the steps to the run's total; returns the rows of the steps run, a replayed step's once. */
  run(onRow: (row: StepRow) => void): Promise<StepRow[]>;
  close(): Promise<void>;
}

/** Waits between health tries while the trainer is unreachable (a restart): about 8 s in all, then its error stands. */
const HEALTH_RETRY_MS = [250, 500, 1_000, 2_000, 4_000];

/** The trainer's health, tried again while it is unreachable or answers 5xx (it may be restarting). */
async function healthOf(trainer: TrainerClient): Promise<HealthResponse> {
  for (let i = 0; ; i++) {
    try {
      return await trainer.health();
    } catch (error) {
      const wait = HEALTH_RETRY_MS[i];
      if (wait === undefined || !(error instanceof DifferadError) || !error.retryable) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** metrics.jsonl without the lines of steps after `toStep` (null: none kept), written atomically: their replay appends them again. */
async function rewindMetricsFile(runDir: string, toStep: number | null): Promise<void> {
  const file = join(runDir, 'metrics.jsonl');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return;
  const kept = text.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    const step = (JSON.parse(line) as { step?: unknown }).step;
    return toStep !== null && typeof step === 'number' && step <= toStep;
  });
  const tmp = `${file}.rewind.tmp`;
  await writeFile(tmp, kept.map((l) => `${l}\n`).join(''));
  await rename(tmp, file);
}

/**
 * Before a failed step's workers may pick up what it left (`--resume`): a
 * failed job of the next step is removed with its children, and the step
 * gets a new round, so it runs again with new job ids instead of reporting
 * its old error. Returns the failed job's reason, or null when there was none.
 */
export async function retireFailedStep(queues: CatalogQueues, store: RunStore, runId: string): Promise<string | null> {
  const at = await store.loadRecovery(runId);
  if (at === null) return null;
  const step = (at.lastCompletedStep ?? -1) + 1;
  const id = toJobId('step', { runId, step, pairCount: 1, weightVersion: at.weightVersion, ...(at.round ? { round: at.round } : {}) });
  const job = await Job.fromId(queues.queues.step, id);
  if (!job || !(await job.isFailed())) return null;
  await job.remove({ removeChildren: true });
  await store.rewindRun(runId, at.lastCompletedStep, at.weightVersion);
  return job.failedReason ?? 'failed';
}

/**
 * A step fails when one of its jobs failed for good; BullMQ then only says
 * `child bull:<queue>:<id> failed`. Look the child up and say why it failed.
 */
async function explainStepFailure(queues: CatalogQueues, step: number, error: Error): Promise<never> {
  const m = /child [^:\s]+:([^:\s]+):(\S+) failed/.exec(error.message);
  const queue = m ? Object.values(queues.queues).find((q) => q.name === m[1]) : undefined;
  const child = queue && m ? await Job.fromId(queue, m[2]!).catch(() => undefined) : undefined;
  const reason = child?.failedReason ?? error.message;
  throw new DifferadError('TRAIN_STEP_FAILED', `step ${step} failed${child ? ` in ${m![1]} job ${m![2]}` : ''}: ${reason}`, {
    cause: error,
  });
}

/** Whether a job has failed for good or completed (both looked up at once: this is on the path from one step to the next). */
async function isFinished(job: Job): Promise<boolean> {
  const [failed, completed] = await Promise.all([job.isFailed(), job.isCompleted()]);
  return failed || completed;
}

/**
 * The step loop. Before every step the trainer's (run, step, weight
 * version) is compared with the run store's (core's decideTrainerSync): in
 * step, the step runs (the first time in a process, the servers first get
 * the trainer's weights: before step 0 its starting weights); otherwise the last saved checkpoint is loaded, the servers get
 * it, the run store and metrics.jsonl are rewound to it and the steps after
 * it are replayed as a new round; when nothing can be restored the run stops
 * with a resumable error. Never does a step run on a trainer elsewhere.
 */
export function createStepDriver(deps: StepDriverDeps): StepDriver {
  const { runId, config, store, log } = deps;
  const client = createTrainerClient({ baseUrl: config.trainer.url, timeoutMs: 300_000 });
  const trainer = deps.metrics ? withTrainerTiming(client, deps.metrics) : client;
  const targets =
    config.policy.syncBackend === 'none'
      ? []
      : config.policy.endpoints.map((url) => ({ url, control: createVllmControl({ url, timeoutMs: 300_000 }) }));
  // This process has no NCCL group with the servers yet: the first sync makes one.
  const syncState = { group: null };
  const at = { step: 0, version: 0, round: 0, checked: -1, serversSynced: false, restores: 0 };
  let rows: StepRow[] = [];
  const overlapped = config.grpo.maxStaleness > 0;
  const flows = createStepFlows({ runId, config, records: deps.records, queues: deps.queues, events: deps.events, redis: deps.redis });

  const pools = createFleetPoolStore(deps.redis);
  // Through the fleet sync, so the rollout pool names this process's servers at `version` (docs/architecture.md §6.1).
  const sync = async (version: number, step: number) => {
    const started = performance.now();
    const synced = await syncFleet({ runId, config, trainer, targets, pools, log }, { step, version }, syncState);
    if (synced !== null)
      deps.metrics?.recordWeightSync({
        run: runId,
        backend: config.policy.syncBackend,
        seconds: (performance.now() - started) / 1000,
        version,
      });
  };

  async function reconcile(continuing: boolean): Promise<void> {
    // Both reads are on the path from one step to the next: made together, judged in this order.
    const [stored, trainerHealth] = await Promise.allSettled([store.loadRecovery(runId), healthOf(trainer)]);
    if (stored.status === 'rejected') throw stored.reason;
    const rec = stored.value;
    if (rec === null) throw new DifferadError('TRAIN_RUN_UNKNOWN', `run ${runId} is not in the run store`);
    if (trainerHealth.status === 'rejected') {
      const error = trainerHealth.reason as Error;
      throw new DifferadError(
        'TRAIN_TRAINER_UNREACHABLE',
        `the trainer at ${config.trainer.url} did not answer /v1/health: ${error.message}; once it is back, continue with: differad train --resume ${runId}`,
        { cause: error },
      );
    }
    const health = trainerHealth.value;
    const decision = decideTrainerSync({ runId, store: rec, trainer: toTrainerPosition(health), continuing });
    if (decision.kind === 'fail')
      throw new DifferadError(decision.code, `${decision.reason}; then continue with: differad train --resume ${runId}`);
    if (decision.kind === 'in-sync') {
      if (!at.serversSynced) {
        // Long-lived servers may serve another run's weights, restarted ones their own: the run samples from its weights.
        await sync(decision.version, rec.lastCompletedStep ?? -1);
        if (targets.length > 0)
          log(
            `servers: pushed ${decision.syncInitial ? 'the starting weights' : "the run's weights"} (weight version ${decision.version})`,
          );
        at.serversSynced = true;
      }
      Object.assign(at, {
        step: (rec.lastCompletedStep ?? -1) + 1,
        version: rec.weightVersion,
        round: rec.round,
        checked: (rec.lastCompletedStep ?? -1) + 1,
      });
      return;
    }
    if (++at.restores > MAX_TRAINER_RESTORES)
      throw new DifferadError(
        'TRAIN_TRAINER_STATE_LOST',
        `${decision.reason}; gave up after ${MAX_TRAINER_RESTORES} restores; continue with: differad train --resume ${runId}`,
      );
    log(`trainer: ${decision.reason}`);
    const cp = decision.checkpoint;
    let version = health.weight_version;
    if (cp !== null) {
      const loaded = await trainer.loadCheckpoint({ run: runId, step: cp.step });
      log(`trainer: loaded checkpoint of step ${cp.step} (weight version ${loaded.weight_version})`);
      version = loaded.weight_version;
    }
    await sync(version, cp?.step ?? -1);
    at.serversSynced = true;
    const left = rec.round;
    const round = await store.rewindRun(runId, cp?.step ?? null, cp?.weightVersion ?? 0);
    if (overlapped) await flows.discardAhead(decision.from, left);
    await rewindMetricsFile(deps.runDir, cp?.step ?? null);
    rows = rows.filter((r) => (r.step ?? 0) < decision.from);
    if (decision.from <= (rec.lastCompletedStep ?? -1))
      log(`replaying steps ${decision.from}..${rec.lastCompletedStep} from the checkpoint (round ${round})`);
    Object.assign(at, { step: decision.from, version: cp?.weightVersion ?? 0, round, checked: decision.from });
  }

  async function runStep(step: number): Promise<StepRow | 'again'> {
    const picks = drawStepPairs(config.run.seed, step, config.grpo.pairsPerStep, deps.records.length);
    const round = at.round ? { round: at.round } : {};
    const payload: StepPayload = { runId, step, pairCount: picks.length, weightVersion: at.version, ...round };
    const id = toJobId('step', payload);
    let job = await Job.fromId(deps.queues.queues.step, id);
    if (job && (await isFinished(job))) {
      // Failed (a resumed run, or the trainer was found elsewhere) or stale: the step runs again with new job ids.
      log(`step ${step}: ${job.failedReason ? `failed before (${job.failedReason})` : 'its job is stale'}; running it again`);
      await job.remove({ removeChildren: true }).catch(() => undefined);
      const left = at.round;
      at.round = await store.rewindRun(runId, step === 0 ? null : step - 1, at.version);
      if (overlapped) await flows.discardAhead(step + 1, left);
      at.checked = -1;
      return 'again';
    }
    if (at.checked !== step) {
      const before = { round: at.round, version: at.version };
      await reconcile(job !== undefined);
      // A restore may keep the step but change the round or the weight version this pass's job id was made with.
      if (at.step !== step || at.round !== before.round || at.version !== before.version) return 'again';
    }
    at.checked = -1;
    // Overlapped mode: a step queued ahead is let through now that the one before it completed (docs/architecture.md §4.7).
    let unlisten = () => {};
    if (!job) {
      await flows.enqueue(step, at, false);
      job = await Job.fromId(deps.queues.queues.step, id);
    } else if (overlapped) {
      unlisten = await flows.release(job, at.version);
    }
    if (overlapped) await flows.enqueueAhead(step, at);
    deps.onStepJob?.(deps.queues.queues.step.toKey(id));
    try {
      return (await job!.waitUntilFinished(deps.events)) as StepRow;
    } catch (error) {
      const failed = parseFailedReason((error as Error).message);
      // The step found the trainer elsewhere: the next pass reruns it after putting the trainer back.
      if (failed.code === TRAINER_STATE_CODE && at.restores < MAX_TRAINER_RESTORES) {
        log(`step ${step}: ${failed.message}`);
        return 'again';
      }
      return explainStepFailure(deps.queues, step, error as Error);
    } finally {
      unlisten();
      deps.onStepJob?.(null);
    }
  }

  return {
    async start() {
      await reconcile(await stepJobExists());
      return at.step;
    },
    async run(onRow) {
      while (at.step < config.run.steps && !deps.signal.aborted) {
        const row = await runStep(at.step);
        if (row === 'again') continue;
        rows.push(row);
        onRow(row);
        at.version = row.weight_version ?? at.version;
        at.step += 1;
      }
      return rows;
    },
    async close() {
      await trainer.close();
      for (const t of targets) await t.control.close();
    },
  };

  async function stepJobExists(): Promise<boolean> {
    const rec = await store.loadRecovery(runId);
    const step = (rec?.lastCompletedStep ?? -1) + 1;
    const id = toJobId('step', { runId, step, pairCount: 1, weightVersion: 0, ...(rec?.round ? { round: rec.round } : {}) });
    const job = await Job.fromId(deps.queues.queues.step, id);
    return job !== undefined && !(await job.isFailed()) && !(await job.isCompleted());
  }
}
