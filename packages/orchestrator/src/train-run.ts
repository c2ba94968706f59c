import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { decideResumeSteps, DifferadError, type ManifestRecord, type ResumeSteps } from '@differad/core';
import { loadManifest, loadPromptPool } from '@differad/datasets';
import { createLineLogger, type Logger, toLineSink } from '@differad/log';
import type { DifferadMetrics } from '@differad/metrics';
import type { RunStore } from '@differad/queue';
import { checkServers } from './check-servers.js';
import { createRunDrive, type TrainRunResult } from './run-drive.js';
import { checkRunNotActive } from './run-owner.js';
import { openRunRedis, type RunServices, startRunServices } from './run-resources.js';

export interface TrainRunInput {
  /** The user's config (ignored when resuming: the run's saved config is used). */
  readonly config?: TrainConfig;
  readonly resumeRunId?: string;
  /** With `resumeRunId`: the run's new total step count (more than its completed steps), stored with the run. */
  readonly steps?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly runsDir?: string;
  /** What the user reads: the step table, the held-out results before training. */
  readonly log: (line: string) => void;
  /** Diagnostics (servers, Redis, resume, warnings, failed jobs) with the run's id; default: lines to `log`. */
  readonly logger?: Logger;
  readonly signal: AbortSignal;
  /** Run the workers in this process too (default true); false when `differad worker` processes serve the queues. */
  readonly inProcessWorkers?: boolean;
  /** Job lock duration of the in-process workers (`--lock-ms`); default the run's `run.lockMs`. */
  readonly lockDurationMs?: number;
  /** The process's metrics (`--metrics-port`); absent, nothing is recorded. */
  readonly metrics?: DifferadMetrics;
  /**
   * Awaited once the run completed, before its workers, queues and Redis
   * close: `differad train --metrics-linger` waits there for a last scrape,
   * which reads the queues at rest.
   */
  readonly beforeClose?: () => Promise<void>;
}

export { STOP_DEADLINE_MS } from './run-resources.js';
export type { TrainRunResult } from './run-drive.js';

function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

/** A run ready to start: its folder, config and training pairs, its data and servers checked. */
interface PreparedRun {
  readonly runsDir: string;
  readonly runId: string;
  readonly runDir: string;
  readonly config: TrainConfig;
  readonly records: readonly ManifestRecord[];
}

/**
 * The run's folder and config (the saved one when resuming), checked before
 * anything starts: bad data or servers that are down or serve another model
 * fail here, and nothing is recorded then. A new run's config is written to
 * its folder.
 */
async function prepareRun(input: TrainRunInput): Promise<PreparedRun> {
  const runsDir = resolve(input.runsDir ?? input.config?.run.runsDir ?? 'runs');
  const runId = input.resumeRunId ?? input.config?.run.id ?? newRunId();
  const runDir = join(runsDir, runId);
  let config: TrainConfig;
  if (input.resumeRunId) {
    const saved = await readFile(join(runDir, 'config.json'), 'utf8').catch(() => null);
    if (saved === null)
      throw new DifferadError('TRAIN_RUN_UNKNOWN', `no run ${runId} under ${runsDir} (looked for ${join(runDir, 'config.json')})`);
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
  if (!input.resumeRunId)
    await writeFile(join(runDir, 'config.json'), `${JSON.stringify({ ...config, run: { ...config.run, id: runId, runsDir } }, null, 2)}\n`);
  return { runsDir, runId, runDir, config, records: train.records };
}

/**
 * Resuming: refuses a run another process still drives, plans the step total
 * (`--steps N`) against the run store, and keeps a new total in the run
 * folder's config, which a later plain `--resume` reads. Returns the config
 * with the total as planned.
 */
async function resumeRun(store: RunStore, run: PreparedRun, input: TrainRunInput, diag: (line: string) => void): Promise<TrainConfig> {
  const { runId, runDir } = run;
  let { config } = run;
  await checkRunNotActive(store, runId, diag);
  const plan = await planResume(store, runId, config.run.steps, input.steps);
  if (plan.steps !== config.run.steps) {
    config = { ...config, run: { ...config.run, steps: plan.steps } };
    // The run folder's config is what a later plain --resume reads: the new total lasts.
    await writeFile(join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }
  const change =
    plan.kind === 'extend'
      ? `, extended to ${plan.steps} steps`
      : plan.kind === 'shorten'
        ? `, shortened to ${plan.steps} steps`
        : ` of ${plan.steps}`;
  input.log(`resuming ${runId} at step ${plan.from}${change}`);
  if (plan.from >= plan.steps)
    input.log(`run ${runId} has completed all ${plan.steps} steps; to train further: differad train --resume ${runId} --steps N`);
  return config;
}

/**
 * `differad train`: checks the data, resolves Redis (embedded unless
 * DIFFERAD_REDIS_URL is set) and the servers (starting the CPU policy and
 * trainer when asked), records the run, starts the workers, and drives the
 * steps one after another as BullMQ flows, printing a row per step. With
 * `resumeRunId` it continues from the last completed step, loading the
 * trainer's checkpoint and pushing it to the policy servers first.
 *
 * Resource setup (run-resources.ts) and the drive (run-drive.ts) are apart:
 * this function opens the resources, lets the drive run, and closes them in
 * order whatever happened.
 */
export async function trainRun(input: TrainRunInput): Promise<TrainRunResult> {
  const run = await prepareRun(input);
  const { runId, runsDir, runDir } = run;
  const root = input.logger ?? createLineLogger(input.log);
  const logger = root.child({ run: runId });
  const diag = toLineSink(logger);
  const redis = await openRunRedis({ runsDir, env: input.env, log: diag });
  let services: RunServices;
  let config = run.config;
  try {
    if (input.resumeRunId) config = await resumeRun(redis.store, run, input, diag);
    services = await startRunServices(redis, {
      runId,
      runsDir,
      runDir,
      config,
      resume: Boolean(input.resumeRunId),
      log: diag,
      logger: root,
      inProcessWorkers: input.inProcessWorkers !== false,
      lockDurationMs: input.lockDurationMs ?? config.run.lockMs,
      ...(input.metrics ? { metrics: input.metrics } : {}),
    });
  } catch (error) {
    await redis.close();
    throw error;
  }
  const drive = createRunDrive({
    runId,
    runDir,
    config,
    resume: Boolean(input.resumeRunId),
    records: run.records,
    redis,
    services,
    resumeCommand: `differad train --resume ${runId} --runs-dir ${runsDir}`,
    log: input.log,
    logger,
    signal: input.signal,
  });
  try {
    const result = await drive.run();
    if (result.state === 'completed') await input.beforeClose?.();
    return result;
  } finally {
    const { hurry, closeDriver } = await drive.release();
    await services.close(hurry, closeDriver);
    await redis.close();
  }
}

/**
 * Resuming: the run's step count from here on, `steps` (`--steps N`) checked
 * against the steps the run store says are completed. Reads only, so a
 * refused N (TRAIN_STEPS_INVALID) leaves the run as it was.
 */
async function planResume(
  store: RunStore,
  runId: string,
  stored: number,
  steps: number | undefined,
): Promise<Exclude<ResumeSteps, { kind: 'invalid' }>> {
  const snapshot = await store.loadRun(runId);
  const completed = (snapshot?.lastCompletedStep ?? -1) + 1;
  const plan = decideResumeSteps({ stored, completed, ...(steps === undefined ? {} : { requested: steps }) });
  if (plan.kind === 'invalid')
    throw new DifferadError('TRAIN_STEPS_INVALID', `cannot resume run ${runId} with --steps ${steps}: ${plan.reason}`, {
      details: { runId, completed, steps },
    });
  return plan;
}
