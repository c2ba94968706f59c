/**
 * Time as the fleet sees it: a monotonic `now()` in milliseconds and a timer
 * that returns its own cancel function. Injected so tests can drive time.
 */
export interface Clock {
  now(): number;
  /** Runs `callback` after `ms`; call the returned function to cancel. */
  setTimeout(callback: () => void, ms: number): () => void;
}

/** The real clock: `performance.now()` and unref'd timers that never keep the process alive. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => {
    const t = setTimeout(callback, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `clock`; rejects with the signal's reason if it aborts first. */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
