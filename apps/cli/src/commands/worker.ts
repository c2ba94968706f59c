import { once } from 'node:events';
import { DEFAULT_LOCK_MS } from '@differad/config';
import { startWorkerProcess } from '@differad/orchestrator';
import type { Command } from 'commander';
import { type CliIo, parseIntegerOption } from '../cli-io.js';
import { helpText } from '../help-text.js';

/** Registers `differad worker`. */
export function registerWorkerCommand(program: Command, io: CliIo): void {
  program
    .command('worker')
    .summary('serve the training queues of every run on a shared Redis')
    .description(
      'A stateless BullMQ worker for rollout, resample, score and step jobs of any run recorded in the Redis at ' +
        'DIFFERAD_REDIS_URL. Run several (one per machine or core) next to `differad train --no-workers` or the API. ' +
        'Stops on SIGINT/SIGTERM after finishing the jobs in hand.',
    )
    .option('--rollout-concurrency <n>', 'rollout requests in flight in this process', parseIntegerOption('--rollout-concurrency'), 16)
    .option('--lock-ms <ms>', 'job lock duration: a job whose worker died is taken over within about 1.5× this', parseIntegerOption('--lock-ms', 1000), DEFAULT_LOCK_MS)
    .addHelpText('after', helpText('\nExample:\n  DIFFERAD_REDIS_URL=redis://127.0.0.1:6379 differad worker --rollout-concurrency 32'))
    .action(async (opts: { rolloutConcurrency: number; lockMs: number }) => {
      const worker = await startWorkerProcess({
        env: io.env,
        log: (line) => io.stdout(`${line}\n`),
        rolloutConcurrency: opts.rolloutConcurrency,
        lockDurationMs: opts.lockMs,
      });
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
      io.stderr('stopping: finishing the jobs in hand\n');
      await worker.close();
      io.setExitCode(0);
    });
}
