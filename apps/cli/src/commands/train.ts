import { dirname, resolve } from 'node:path';
import { DEFAULT_LOCK_MS, loadConfig, loadMetricsConfig, type TrainConfig, TrainConfigSchema } from '@differad/config';
import { isDifferadError } from '@differad/core';
import { trainRun } from '@differad/orchestrator';
import type { Command } from 'commander';
import { type CliIo, parseIntegerOption, parsePortOption, resolvePath } from '../cli-io.js';
import { createCliLogger, type LogOptions, toLogFormatOption, toLogLevelOption } from '../cli-logger.js';
import { helpText } from '../help-text.js';
import { startProcessMetrics } from '../metrics/process-metrics.js';
import { formatRunSummary } from '../output/run-summary.js';

interface TrainOptions extends LogOptions {
  config?: string;
  resume?: string;
  runsDir?: string;
  steps?: number;
  runId?: string;
  workers: boolean;
  lockMs?: number;
  metricsPort?: number;
  metricsHost?: string;
  metricsLinger: number;
}

/** Paths in a config file are relative to that file; `--runs-dir` is relative to the working directory. */
function resolveConfigPaths(config: TrainConfig, file: string, cwd: string, runsDirFlag: string | undefined): TrainConfig {
  const base = dirname(resolvePath({ cwd }, file));
  const at = (p: string) => resolve(base, p);
  return {
    ...config,
    run: { ...config.run, runsDir: runsDirFlag ? resolvePath({ cwd }, runsDirFlag) : at(config.run.runsDir) },
    data: { ...config.data, train: at(config.data.train), ...(config.data.eval ? { eval: at(config.data.eval) } : {}) },
    policy: config.policy.kind === 'cpu' && config.policy.init ? { ...config.policy, init: at(config.policy.init) } : config.policy,
    prompt: config.prompt.pool ? { ...config.prompt, pool: at(config.prompt.pool) } : config.prompt,
  };
}

/** What is wrong with the combination of flags (wrong usage, exit 1), or null. */
export function describeTrainOptionProblem(opts: Pick<TrainOptions, 'config' | 'resume' | 'runId'>): string | null {
  if (opts.config === undefined && opts.resume === undefined)
    return 'pass --config FILE.yaml for a new run, or --resume RUN to continue one';
  if (opts.resume === undefined) return null;
  // A resumed run keeps the config and id it was started with; silently dropping these flags would train something else than asked.
  if (opts.config !== undefined)
    return '--config cannot be combined with --resume: a resumed run keeps the config it was started with (--steps N changes its length)';
  if (opts.runId !== undefined) return `--run-id cannot be combined with --resume: --resume ${opts.resume} names the run to continue`;
  return null;
}

/** Runs `differad train`; returns the exit code (130 after an interrupt, the run left resumable). */
export async function runTrain(opts: TrainOptions, io: CliIo, signal: AbortSignal): Promise<number> {
  const config = opts.config
    ? resolveConfigPaths(
        loadConfig(
          { env: io.env, file: resolvePath(io, opts.config), flags: { run: { steps: opts.steps, id: opts.runId } } },
          TrainConfigSchema,
        ),
        opts.config,
        io.cwd,
        opts.runsDir,
      )
    : undefined;
  const logger = createCliLogger(opts, io, 'train');
  // Flags only, not DIFFERAD_METRICS_PORT: a run the API launches inherits its environment, where that is the API's own port.
  const served = await startProcessMetrics(loadMetricsConfig({ env: {}, flags: { port: opts.metricsPort, host: opts.metricsHost } }));
  if (served) io.stdout(`metrics on ${served.url}\n`);
  const result = await trainRun({
    ...(config ? { config } : {}),
    ...(opts.resume ? { resumeRunId: opts.resume, ...(opts.steps === undefined ? {} : { steps: opts.steps }) } : {}),
    ...(opts.runsDir ? { runsDir: resolvePath(io, opts.runsDir) } : {}),
    env: io.env,
    log: (line) => io.stdout(`${line}\n`),
    logger,
    signal,
    inProcessWorkers: opts.workers,
    ...(opts.lockMs ? { lockDurationMs: opts.lockMs } : {}),
    ...(served ? { metrics: served.metrics, beforeClose: () => served.nextScrape(opts.metricsLinger, signal) } : {}),
  }).finally(() => served?.close());
  const dir = `${opts.runsDir ?? config?.run.runsDir ?? 'runs'}/${result.runId}`;
  if (result.state === 'paused') {
    io.stderr(
      `interrupted: run ${result.runId} stopped after ${result.rows.length} step(s); continue with: differad train --resume ${result.runId}\n`,
    );
    return 130;
  }
  io.stdout(`run ${result.runId} ${result.state}: ${result.rows.length} step(s); metrics in ${dir}/metrics.jsonl\n`);
  if (result.summary !== null) io.stdout(`\n${formatRunSummary(result.summary, dir)}\n\n`);
  io.stdout(`dashboard: npx differad api --runs-dir ${dirname(dir)} and open http://127.0.0.1:8080/dashboard/runs/${result.runId}\n`);
  return 0;
}

/**
 * The SIGINT/SIGTERM handler of `differad train`: the first signal aborts
 * `controller` (the run stops within a bounded time, resumable, exit 130); a
 * second one, while that stop is under way, exits at once through `exit`.
 */
export function createStopHandler(controller: AbortController, io: Pick<CliIo, 'stderr'>, exit: (code: number) => void): () => void {
  return () => {
    if (controller.signal.aborted) {
      io.stderr('second signal: exiting now\n');
      exit(130);
      return;
    }
    io.stderr('stopping: the run stays resumable (send the signal again to exit at once)\n');
    controller.abort();
  };
}

/** Registers `differad train`. */
export function registerTrainCommand(program: Command, io: CliIo): void {
  program
    .command('train')
    .summary('train with GRPO: rollouts, rewards, resampling, trainer steps, weight sync')
    .description(
      'Runs the GRPO training loop of DifferAD-R1 on BullMQ. Redis is embedded unless DIFFERAD_REDIS_URL is set; ' +
        'with `policy: {kind: cpu}` and `trainer: {kind: cpu}` (the defaults) it starts the built-in CPU policy servers ' +
        'and CPU trainer, so the whole loop runs on a laptop. Each step: draw pairs, sample G answers per pair, ' +
        'score them, resample degenerate groups, train, sync weights, evaluate every data.evalEvery steps. ' +
        'Metrics go to runs/<id>/metrics.jsonl and Redis; a row per step is printed on stdout, diagnostics (servers, Redis, restores, warnings, failed jobs) are log lines on stderr. ' +
        'When the run ends it prints and writes runs/<id>/summary.json: held-out Acc@τ, F1@τ, mIoU, mIoU_ano, mIoU_nor and n before training, after the last step ' +
        'and at the best step (by Acc), per class in runs/<id>/held-out/, the mean training reward of the first and the last 10 steps, and the final policy ' +
        '(for the CPU trainer runs/<id>/trainer/weights/policy-v<N>.json, which `differad eval --run <id>` evaluates).',
    )
    .option('--config <file>', 'training config (YAML or JSON; see examples/)')
    .option('--resume <run>', 'continue a run from its last completed step (--steps N sets its new total)')
    .option('--runs-dir <dir>', 'folder of run folders (default runs, or run.runsDir)')
    .option(
      '--steps <n>',
      "override run.steps; with --resume, the run's new total (more than its completed steps)",
      parseIntegerOption('--steps'),
    )
    .option('--run-id <id>', 'override run.id')
    .option('--no-workers', 'do not run workers in this process (serve the queues with `differad worker`)')
    .option(
      '--lock-ms <ms>',
      `job lock duration of the workers in this process (run.lockMs, default ${DEFAULT_LOCK_MS}): after a crash, --resume takes the dead jobs over within about 1.5× this`,
      parseIntegerOption('--lock-ms', 1000),
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at http://host:port/metrics while the run lasts (default: none)',
      parsePortOption('--metrics-port'),
    )
    .option('--metrics-host <host>', 'address of the metrics port', '127.0.0.1')
    .option(
      '--metrics-linger <ms>',
      'after the last step, keep the queues and the metrics port up until one more scrape, at most this long',
      parseIntegerOption('--metrics-linger', 0),
      0,
    )
    .addOption(toLogLevelOption())
    .addOption(toLogFormatOption())
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n  differad train --config examples/cpu-demo.yaml\n  differad train --config examples/cpu-demo.yaml --metrics-port 9464 --metrics-linger 30000\n  differad train --resume run-20261128-101500\n  differad train --resume run-20261128-101500 --steps 60\n' +
          '\nExit codes: 0 done; 1 wrong usage; 2 bad config, data or unreachable servers, a failed step, or Redis lost mid-run ' +
          '(TRAIN_REDIS_LOST: resumable, the message names the --resume command; TRAIN_REDIS_DATA_LOST: Redis came back empty); ' +
          '130 interrupted by SIGINT/SIGTERM (resumable; a second signal exits at once).',
      ),
    )
    .action(async (opts: TrainOptions, command: Command) => {
      const problem = describeTrainOptionProblem(opts);
      if (problem !== null) command.error(`error: ${problem}`, { exitCode: 1, code: 'differad.train.options' });
      const controller = new AbortController();
      // process.exit runs the exit hook that stops the embedded redis-server.
      const stop = createStopHandler(controller, io, (code) => process.exit(code));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        io.setExitCode(await runTrain(opts, io, controller.signal));
      } catch (error) {
        // --steps N not past the run's completed steps: a wrong flag value for that run, not unusable input.
        if (isDifferadError(error, 'TRAIN_STEPS_INVALID'))
          command.error(`error: ${error.message}`, { exitCode: 1, code: 'differad.train.steps' });
        throw error;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
