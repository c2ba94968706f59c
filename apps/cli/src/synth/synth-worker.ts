import { parentPort, workerData } from 'node:worker_threads';
import { type ErrorCode, isDifferadError } from '@differad/core';
import { createPairSynthesizer, type SynthesisPlan } from '@differad/images';

/** Messages a synthesis worker answers: one finished pair or one error, by index. */
export type WorkerReply =
  | { readonly type: 'done'; readonly index: number; readonly record: unknown }
  | { readonly type: 'error'; readonly index: number; readonly code: ErrorCode | null; readonly message: string };

const port = parentPort;
if (port) {
  const synthesize = createPairSynthesizer(workerData as SynthesisPlan);
  port.on('message', (index: number) => {
    synthesize(index).then(
      (record) => port.postMessage({ type: 'done', index, record } satisfies WorkerReply),
      // Only a DifferadError's code crosses over as one; a Node error's `code` (ENOENT) is no registered code.
      (error: Error) =>
        port.postMessage({
          type: 'error',
          index,
          code: isDifferadError(error) ? error.code : null,
          message: error.message,
        } satisfies WorkerReply),
    );
  });
}
