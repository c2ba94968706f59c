/**
 * Child process of bench/pipeline: one `differad worker` (startWorkerProcess)
 * on the Redis at argv[2]. Prints one JSON line once it serves the queues and
 * stops on SIGTERM or when the bench is gone (host-exit.ts).
 */
import { startWorkerProcess } from '@differad/orchestrator';
import { exitWith } from './host-exit.js';

const worker = await startWorkerProcess({ env: { DIFFERAD_REDIS_URL: process.argv[2] }, log: () => undefined });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
exitWith(() => worker.close());
