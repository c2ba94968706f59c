/** Options of {@link mapBounded}. */
export interface MapBoundedOptions {
  /** Called after each call that resolved, with how many have and how many there are. */
  readonly onSettled?: (done: number, total: number) => void;
  /** Once aborted, no new call starts; the calls running are awaited and the items never started stay `undefined`. */
  readonly signal?: AbortSignal;
}

function checkJobs(jobs: number): void {
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new RangeError(`concurrency must be an integer ≥ 1, got ${jobs}`);
}

/**
 * Maps `items` through `fn` with at most `jobs` calls in flight, keeping input
 * order in the result. The first rejection stops new calls from starting and
 * is rethrown once the calls already running have settled, so no work is left
 * behind writing files after the caller has given up. `jobs` must be an
 * integer ≥ 1 (a RangeError otherwise, not a silent map of nothing).
 */
export function mapBounded<T, R>(
  items: readonly T[],
  jobs: number,
  fn: (item: T, index: number) => Promise<R>,
  options?: Omit<MapBoundedOptions, 'signal'>,
): Promise<R[]>;
/** With a signal: the items never started because it aborted are `undefined` in the result. */
export function mapBounded<T, R>(
  items: readonly T[],
  jobs: number,
  fn: (item: T, index: number) => Promise<R>,
  options: MapBoundedOptions & { readonly signal: AbortSignal },
): Promise<(R | undefined)[]>;
export async function mapBounded<T, R>(
  items: readonly T[],
  jobs: number,
  fn: (item: T, index: number) => Promise<R>,
  options: MapBoundedOptions = {},
): Promise<(R | undefined)[]> {
  checkJobs(jobs);
  const results = new Array<R | undefined>(items.length).fill(undefined);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && !options.signal?.aborted && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
        return;
      }
      options.onSettled?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
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

/** A {@link Limiter} for `jobs` concurrent tasks (an integer ≥ 1). */
export function createLimiter(jobs: number): Limiter {
  checkJobs(jobs);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  return {
    async run(task) {
      while (running.size >= jobs) await Promise.race(running);
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
