/**
 * Maps `items` through `fn` with at most `jobs` calls in flight, keeping input
 * order in the result. The first rejection stops new calls from starting and
 * is rethrown once the calls already running have settled, so no work is left
 * behind writing files after the caller has given up.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  jobs: number,
  fn: (item: T, index: number) => Promise<R>,
  onSettled?: (done: number, total: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
        return;
      }
      onSettled?.(++done, items.length);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(Math.floor(jobs), items.length)) }, worker);
  await Promise.all(workers);
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

/** Runs tasks with at most `jobs` in flight while a stream is still being read. */
export interface Limiter {
  /** Waits for a free slot, then starts `task` without waiting for it. */
  run(task: () => Promise<void>): Promise<void>;
  /** Waits for every started task; rethrows the first failure. */
  drain(): Promise<void>;
}

/** A {@link Limiter} for `jobs` concurrent tasks. */
export function createLimiter(jobs: number): Limiter {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  return {
    async run(task) {
      while (running.size >= Math.max(1, jobs)) await Promise.race(running);
      const p: Promise<void> = task()
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(p));
      running.add(p);
    },
    async drain() {
      await Promise.all(running);
      if (failure !== null) throw (failure as { error: unknown }).error;
    },
  };
}
