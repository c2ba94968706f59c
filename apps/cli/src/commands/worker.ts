import { once } from 'node:events';
import { DEFAULT_LOCK_MS, loadMetricsConfig } from '@differad/config';
import { startWorkerProcess } from '@differad/orchestrator';
import type { Command } from 'commander';
import { type CliIo, parseIntegerOption, parsePortOption } from '../cli-io.js';
import { createCliLogger, type LogOptions, toLogFormatOption, toLogLevelOption } from '../cli-logger.js';
import { helpText } from '../help-text.js';
import { startProcessMetrics } from '../metrics/process-metrics.js';

/** Registers `differad worker`. */
export function registerWorkerCommand(program: Command, io: CliIo): void {
  program
    .command('worker')
    .summary('serve the training queues of every run on a shared Redis')
    .description(
      'A stateless BullMQ worker for rollout, resample, score and step jobs of any run recorded in the Redis at ' +
        'DIFFERAD_REDIS_URL. Run several (one per machine or core) next to `differad train --no-workers` or the API. ' +
        'Stops on SIGINT/SIGTERM after finishing the jobs in hand. Logs go to stderr (a failed job: its run, step, slot, job id and error code): ' +
        'JSON lines, or readable lines at a terminal (--log-format, --log-level).',
    )
    .option('--rollout-concurrency <n>', 'rollout requests in flight in this process', parseIntegerOption('--rollout-concurrency'), 16)
    .option(
      '--lock-ms <ms>',
      'job lock duration: a job whose worker died is taken over within about 1.5× this',
      parseIntegerOption('--lock-ms', 1000),
      DEFAULT_LOCK_MS,
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at http://host:port/metrics (default DIFFERAD_METRICS_PORT; none: no metrics)',
      parsePortOption('--metrics-port'),
    )
    .option('--metrics-host <host>', 'address of the metrics port (default DIFFERAD_METRICS_HOST, else 127.0.0.1)')
    .addOption(toLogLevelOption())
    .addOption(toLogFormatOption())
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n  DIFFERAD_REDIS_URL=redis://127.0.0.1:6379 differad worker --rollout-concurrency 32\n  DIFFERAD_REDIS_URL=redis://127.0.0.1:6379 differad worker --metrics-port 9464' +
          '\n  DIFFERAD_REDIS_URL=unix://$PWD/runs/.redis/redis.sock differad worker   # next to `differad train --no-workers` on this machine',
      ),
    )
    .action(async (opts: { rolloutConcurrency: number; lockMs: number; metricsPort?: number; metricsHost?: string } & LogOptions) => {
      const logger = createCliLogger(opts, io, 'worker');
      const served = await startProcessMetrics(
        loadMetricsConfig({ env: io.env, flags: { port: opts.metricsPort, host: opts.metricsHost } }),
      );
      if (served) io.stdout(`metrics on ${served.url}\n`);
      const worker = await startWorkerProcess({
        env: io.env,
        log: (line) => io.stdout(`${line}\n`),
        logger,
        rolloutConcurrency: opts.rolloutConcurrency,
        lockDurationMs: opts.lockMs,
        ...(served ? { metrics: served.metrics } : {}),
      }).catch(async (error: unknown) => {
        await served?.close();
        throw error;
      });
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
      io.stderr('stopping: finishing the jobs in hand\n');
      await worker.close();
      await served?.close();
      io.setExitCode(0);
    });
}
