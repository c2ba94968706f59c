import type { Counter, Gauge } from 'prom-client';
import { QUEUE_JOB_STATES, type QueueJobState } from '../catalog/metric-catalog.js';

/**
 * What `collectQueues` needs of a queue: BullMQ's `Queue` fits as it is.
 *
 * `Queue.getJobCounts(...types)` (bullmq 5.81.5, `src/classes/queue-getters.ts`;
 * `dist/esm/classes/queue-getters.js` in node_modules) returns an object with
 * one count per requested type, read in one Lua script (`getCounts-1.lua`:
 * `LLEN` of the `wait`, `paused` and `active` lists, `ZCARD` of the other
 * sets), so the counts of one queue are one consistent snapshot. Asking for
 * `waiting` also returns `paused` (`sanitizeJobTypes` adds it); a count the
 * script does not find is 0.
 */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: QueueJobState[]): Promise<Record<string, number>>;
}

/** Options of the queue collector. */
export interface QueueCollectorOptions {
  /** How long one queue's counts may take before the scrape goes on without them (default 2 s). */
  readonly timeoutMs: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The queues whose counts each scrape reads, and the scrape itself: every
 * registered queue is asked at once; a queue whose Redis does not answer in
 * time (or fails) counts one `differad_queue_collect_errors_total` and has no
 * `differad_queue_jobs` samples in that scrape, instead of failing the whole
 * scrape or reporting stale counts. prom-client reads the metrics of a scrape
 * concurrently, so both metrics' hooks await one shared read.
 */
export function createQueueCollector(metricsOf: () => { readonly jobs: Gauge; readonly errors: Counter }, options: QueueCollectorOptions) {
  const sources = new Set<CountableQueue>();
  let reading: Promise<void> | null = null;

  async function read(): Promise<void> {
    const metrics = metricsOf();
    const queues = [...sources];
    const counts = await Promise.allSettled(
      queues.map((q) => withTimeout(q.getJobCounts(...QUEUE_JOB_STATES), options.timeoutMs, `getJobCounts of ${q.name}`)),
    );
    metrics.jobs.reset();
    queues.forEach((queue, k) => {
      const result = counts[k]!;
      if (result.status === 'rejected') {
        metrics.errors.inc({ queue: queue.name });
        return;
      }
      for (const state of QUEUE_JOB_STATES) metrics.jobs.set({ queue: queue.name, state }, result.value[state] ?? 0);
    });
  }

  return {
    /** Adds `queues` to every later scrape; the returned function takes them out again (call it before closing them). */
    add(queues: Iterable<CountableQueue>): () => void {
      const added = [...queues];
      for (const q of added) sources.add(q);
      return () => {
        for (const q of added) sources.delete(q);
      };
    },
    /** The scrape hook of both metrics: one read per scrape, shared while it runs. */
    collect(): Promise<void> {
      reading ??= read().finally(() => {
        reading = null;
      });
      return reading;
    },
  };
}
