/**
 * The decode time of a server's running requests, which vLLM's `keep` pause
 * stops (entrypoints/rl/online/api_router.py `/pause`, v1/engine/core.py
 * `pause_scheduler`: PAUSED_ALL schedules no token until `/resume`,
 * v1/core/sched/scheduler.py). A request spends its service time through
 * {@link DecodeClock.spend}; time while frozen does not count, and a request
 * whose time is up still waits for the thaw (no step, no output).
 */
export class DecodeClock {
  private frozen = false;
  private readonly wakers = new Set<() => void>();

  /** `/pause?mode=keep`: running requests stop where they are. */
  freeze(): void {
    this.frozen = true;
    this.wake();
  }

  /** `/resume`: they go on. */
  thaw(): void {
    this.frozen = false;
    this.wake();
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Waits until `ms` of unfrozen time have passed and the clock runs; rejects with the signal's reason once it aborts. */
  async spend(ms: number, signal?: AbortSignal): Promise<void> {
    let left = ms;
    for (;;) {
      signal?.throwIfAborted();
      if (!this.frozen && left <= 0) return;
      const running = !this.frozen;
      const started = performance.now();
      await new Promise<void>((resolve) => {
        const done = () => {
          if (timer !== undefined) clearTimeout(timer);
          this.wakers.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = running ? setTimeout(done, left) : undefined;
        this.wakers.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
      if (running) left -= performance.now() - started;
    }
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }
}
