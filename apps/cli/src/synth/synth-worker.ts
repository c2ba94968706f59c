import { parentPort, workerData } from 'node:worker_threads';
import { createPairSynthesizer, type SynthesisPlan } from '@differad/images';

/** Messages a synthesis worker answers: one finished pair or one error, by index. */
export type WorkerReply =
  | { readonly type: 'done'; readonly index: number; readonly record: unknown }
  | { readonly type: 'error'; readonly index: number; readonly code: string; readonly message: string };

const port = parentPort;
if (port) {
  const synthesize = createPairSynthesizer(workerData as SynthesisPlan);
  port.on('message', (index: number) => {
    synthesize(index).then(
      (record) => port.postMessage({ type: 'done', index, record } satisfies WorkerReply),
      (error: Error & { code?: string }) =>
        port.postMessage({ type: 'error', index, code: error.code ?? 'SYNTH_FAILED', message: error.message } satisfies WorkerReply),
    );
  });
}
