import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLineLogger, type Logger, toErrorFields } from '@differad/log';
import type { RunStore } from '@differad/queue';
import { apiError } from '../errors/api-errors.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobKind } from '../schemas/job-schemas.js';
import { describeExit, readLastLogLine, spawnLogged, stopChild, type TrackedChild } from './child-process.js';
import { type JobLauncher, type Launchers, type LaunchableTrainConfig, type RunLauncher, toEvalArgs, toSynthArgs } from './launchers.js';

/** Options of {@link createProcessLaunchers}. */
export interface ProcessLaunchersOptions {
  /** How to run the CLI: e.g. `[process.execPath, '/app/apps/cli/bin/differad.js']`. */
  readonly command: readonly string[];
  /** Working directory of the children. */
  readonly cwd: string;
  /** Their environment (the composition root's, with DIFFERAD_REDIS_URL pointing at the API's Redis). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Job logs go to `<runsRoot>/jobs/`. (A run's submitted config and log go to its own folder, `<run.runsDir>/<runId>`.) */
  readonly runsRoot: string;
  readonly runStore: RunStore;
  readonly jobStore: JobStore;
  /** Extra `differad train` arguments, e.g. `--no-workers` when `differad worker` processes serve the queues. */
  readonly trainArgs?: readonly string[];
  /** How long a new run may take to appear in the run store (default 120 s: data checks and local servers come first). */
  readonly startTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace on cancel (default 10 s). */
  readonly graceMs?: number;
  /** Each child's start and exit, and what could not be recorded of it (default: nowhere). */
  readonly logger?: Logger;
}

const START_POLL_MS = 100;

/** A child's exit: info when it succeeded or was cancelled, a warning with its exit code otherwise. */
function logExit(logger: Logger, what: string, exit: { code: number | null; signal: NodeJS.Signals | null }, tracked: TrackedChild): void {
  const fields = { exit_code: exit.code, signal: exit.signal, cancelled: tracked.stopRequested };
  if (exit.code === 0 || tracked.stopRequested)
    logger.info(fields, `${what} exited with ${describeExit(exit)}${tracked.stopRequested ? ' (cancelled)' : ''}`);
  else logger.warn(fields, `${what} exited with ${describeExit(exit)} (log: ${tracked.logFile})`);
}

/** The child's own error code from its error report (`error [CODE]: …`), if any. */
function toChildCode(report: string): string | null {
  return report.match(/^error \[([A-Z][A-Z0-9_]*)\]/)?.[1] ?? null;
}

/**
 * Launchers that run the real CLI as child processes: `differad train
 * --config <runsDir>/<id>/submitted-config.json`, `differad eval …`,
 * `differad synth …`. They cancel by the PID of a child they started, never
 * anything else, and record how a child ended: a run that exits non-zero
 * while still `created` or `running` becomes `failed`; a job `completed` or `failed`.
 */
export function createProcessLaunchers(options: ProcessLaunchersOptions): Launchers {
  const graceMs = options.graceMs ?? 10_000;
  const logger = options.logger ?? createLineLogger(() => undefined, 'silent');
  const runs = new Map<string, TrackedChild>();
  const jobs = new Map<string, TrackedChild>();
  // Children get the Redis URL through env; the API token stays with the API.
  const env = { ...options.env, DIFFERAD_API_TOKEN: undefined };

  const cancelIn = async (map: Map<string, TrackedChild>, key: string): Promise<boolean> => {
    const tracked = map.get(key);
    if (tracked === undefined) return false;
    await stopChild(tracked, graceMs);
    return true;
  };

  const onRunExit = async (runId: string, tracked: TrackedChild): Promise<void> => {
    const exit = await tracked.exited;
    runs.delete(runId);
    logExit(logger.child({ run: runId, pid: tracked.pid }), `run ${runId}: differad train`, exit, tracked);
    if (tracked.stopRequested || exit.code === 0) return;
    const run = await options.runStore.loadRun(runId);
    if (run === null || (run.state !== 'created' && run.state !== 'running')) return;
    const last = await readLastLogLine(tracked.logFile);
    await options.runStore.setState(
      runId,
      'failed',
      `differad train exited with ${describeExit(exit)}${last ? `: ${last}` : ''} (log: ${tracked.logFile})`,
    );
  };

  /** Resolves once the child has recorded the run; throws when it exits or takes too long first. */
  const waitForRecord = async (runId: string, tracked: TrackedChild): Promise<void> => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
    let exited = false;
    void tracked.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if ((await options.runStore.loadRun(runId)) !== null) return;
      if (exited) {
        const last = await readLastLogLine(tracked.logFile);
        const childCode = toChildCode(last);
        if (childCode === 'TRAIN_RUN_EXISTS') throw apiError('API_CONFLICT', `run ${runId} exists already`, { runId });
        throw apiError('API_JOB_START_FAILED', `differad train exited before recording run ${runId}: ${last || 'no output'}`, {
          runId,
          childCode,
          log: tracked.logFile,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
    }
    await stopChild(tracked, graceMs);
    throw apiError('API_JOB_START_FAILED', `differad train did not record run ${runId} within ${options.startTimeoutMs ?? 120_000} ms`, {
      runId,
      log: tracked.logFile,
    });
  };

  const runLauncher: RunLauncher = {
    async start(config: LaunchableTrainConfig) {
      const runId = config.run.id;
      const runDir = join(config.run.runsDir, runId);
      await mkdir(runDir, { recursive: true });
      const configFile = join(runDir, 'submitted-config.json');
      await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      const args = ['train', '--config', configFile, ...(options.trainArgs ?? [])];
      const tracked = await spawnLogged(options.command, args, { cwd: options.cwd, env, logFile: join(runDir, 'api-launch.log') });
      runs.set(runId, tracked);
      logger.info({ run: runId, pid: tracked.pid }, `run ${runId}: started differad train`);
      onRunExit(runId, tracked).catch((error: unknown) =>
        logger.error({ run: runId, ...toErrorFields(error) }, `run ${runId}: could not record its exit: ${(error as Error).message}`),
      );
      await waitForRecord(runId, tracked);
      return { runId };
    },
    cancel: (runId) => cancelIn(runs, runId),
  };

  const jobLauncher = <Spec>(kind: JobKind, toArgs: (spec: Spec, outDir: string) => string[]): JobLauncher<Spec> => {
    const onExit = async (id: string, tracked: TrackedChild): Promise<void> => {
      const exit = await tracked.exited;
      jobs.delete(`${kind}:${id}`);
      logExit(logger.child({ job: id, kind, pid: tracked.pid }), `${kind} ${id}: differad ${kind}`, exit, tracked);
      if (tracked.stopRequested) return;
      if (exit.code === 0) {
        await options.jobStore.finish(kind, id, 'completed', { exitCode: 0 });
        return;
      }
      const last = await readLastLogLine(tracked.logFile);
      await options.jobStore.finish(kind, id, 'failed', {
        exitCode: exit.code,
        message: `differad ${kind} exited with ${describeExit(exit)}${last ? `: ${last}` : ''}`,
      });
    };
    return {
      async start(id, spec, outDir) {
        await mkdir(outDir, { recursive: true });
        const logDir = join(options.runsRoot, 'jobs');
        await mkdir(logDir, { recursive: true });
        let tracked: TrackedChild;
        try {
          tracked = await spawnLogged(options.command, toArgs(spec, outDir), {
            cwd: options.cwd,
            env,
            logFile: join(logDir, `${kind}-${id}.log`),
          });
        } catch (error) {
          await options.jobStore.finish(kind, id, 'failed', { message: `could not start differad ${kind}: ${(error as Error).message}` });
          throw error;
        }
        jobs.set(`${kind}:${id}`, tracked);
        logger.info({ job: id, kind, pid: tracked.pid }, `${kind} ${id}: started differad ${kind}`);
        onExit(id, tracked).catch((error: unknown) =>
          logger.error({ job: id, kind, ...toErrorFields(error) }, `${kind} ${id}: could not record its exit: ${(error as Error).message}`),
        );
      },
      cancel: (id) => cancelIn(jobs, `${kind}:${id}`),
    };
  };

  return {
    runs: runLauncher,
    evals: jobLauncher('eval', toEvalArgs),
    synth: jobLauncher('synth', toSynthArgs),
    async close() {
      const stopRun = async (runId: string, tracked: TrackedChild): Promise<void> => {
        await stopChild(tracked, graceMs);
        const run = await options.runStore.loadRun(runId);
        if (run?.state === 'created' || run?.state === 'running') {
          await options.runStore.setState(
            runId,
            'paused',
            `stopped when the API shut down; continue with differad train --resume ${runId}`,
          );
        }
      };
      const stopJob = async (key: string, tracked: TrackedChild): Promise<void> => {
        await stopChild(tracked, graceMs);
        const [kind, id] = key.split(':') as [JobKind, string];
        await options.jobStore.finish(kind, id, 'cancelled', { message: 'stopped when the API shut down' });
      };
      await Promise.all([...[...runs].map(([id, t]) => stopRun(id, t)), ...[...jobs].map(([key, t]) => stopJob(key, t))]);
    },
  };
}
