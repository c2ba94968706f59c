/**
 * Child process of bench/pipeline: the no-op trainer, so that its HTTP and
 * JSON work stays off the orchestrator's process and the bench's CPU figure
 * for "this process" is the coordinator and its workers alone. Prints its URL
 * as one JSON line; answers IPC messages `reset` (forget every run) and
 * `arrivals` (the requests so far); stops on SIGTERM or when the bench is gone (host-exit.ts).
 */
import { startNoopTrainer } from './noop-trainer.js';
import { exitWith } from './host-exit.js';

const trainer = await startNoopTrainer();
process.on('message', (message) => {
  if (message === 'reset') trainer.reset();
  process.send?.(message === 'arrivals' ? trainer.arrivals : { ok: true });
});
process.stdout.write(`${JSON.stringify({ url: trainer.url })}\n`);
exitWith(() => trainer.close());
