import { Worker } from 'node:worker_threads';
import { createPairSynthesizer, type SynthesisPlan, type SynthRecord } from '@differad/images';
import { DifferadError } from '@differad/core';
import type { WorkerReply } from './synth-worker.js';

/** Runs pair synthesis by index in-process (jobs = 1) or on worker threads. */
export interface PairPool {
  run(index: number): Promise<SynthRecord>;
  close(): Promise<void>;
}

/** In-process pool: the same code path the workers run, without threads. */
function createInlinePool(plan: SynthesisPlan): PairPool {
  const synthesize = createPairSynthesizer(plan);
  return { run: synthesize, close: async () => {} };
}

/**
 * A pool of `jobs` worker threads, each with its own decode caches. A pair's
 * content depends only on the plan and its index, so which worker makes it
 * does not matter: outputs are byte-identical for any job count.
 */
function createWorkerPool(plan: SynthesisPlan, jobs: number): PairPool {
  const entry = new URL('./synth-worker.js', import.meta.url);
  const workers = Array.from({ length: jobs }, () => ({ worker: new Worker(entry, { workerData: plan }), load: 0 }));
  const pending = new Map<number, { resolve: (r: SynthRecord) => void; reject: (e: Error) => void }>();
  for (const w of workers) {
    w.worker.on('message', (reply: WorkerReply) => {
      w.load--;
      const p = pending.get(reply.index);
      pending.delete(reply.index);
      if (reply.type === 'done') p?.resolve(reply.record as SynthRecord);
      else p?.reject(new DifferadError(reply.code ?? 'SYNTH_WORKER_FAILED', reply.message));
    });
    w.worker.on('error', (error) => {
      for (const p of pending.values())
        p.reject(new DifferadError('SYNTH_WORKER_FAILED', `a synthesis worker failed: ${error.message}`, { cause: error }));
      pending.clear();
    });
  }
  return {
    run(index) {
      const w = workers.reduce((a, b) => (b.load < a.load ? b : a));
      w.load++;
      return new Promise((resolve, reject) => {
        pending.set(index, { resolve, reject });
        w.worker.postMessage(index);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}

export function createPairPool(plan: SynthesisPlan, jobs: number): PairPool {
  return jobs <= 1 ? createInlinePool(plan) : createWorkerPool(plan, jobs);
}
