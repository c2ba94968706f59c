/** A request's place in the fake server's scheduler; `release()` frees its slots or drops it from the queue. */
export interface SlotTicket {
  readonly work: number;
  /** 'waiting' in the queue, 'running' in slots, 'done' once released. */
  state(): 'waiting' | 'running' | 'done';
  release(): void;
}

interface Job {
  readonly work: number;
  readonly slots: number;
  state: 'waiting' | 'running' | 'done';
  readonly onAdmit: () => void;
}

/**
 * The capacity model of the fake vLLM: `slots` sequences decode at once, like
 * a continuous-batching engine with a fixed batch size. A request with `n`
 * choices needs `n` slots (all of them when `n` exceeds the total) and is
 * admitted first-come first-served; while paused nothing is admitted. The
 * gauges count sequences, as vLLM's `num_requests_running` / `_waiting` count
 * the `n` child requests of a parallel-sampling request.
 */
export class SlotScheduler {
  private free: number;
  private paused = false;
  private readonly queue: Job[] = [];
  private runningWork = 0;
  private waitingWork = 0;

  constructor(private readonly slots: number) {
    this.free = slots;
  }

  /** Queues `work` sequences; `onAdmit` runs (maybe synchronously) once they have slots. */
  enqueue(work: number, onAdmit: () => void): SlotTicket {
    const job: Job = { work, slots: Math.min(work, this.slots), state: 'waiting', onAdmit };
    this.queue.push(job);
    this.waitingWork += work;
    this.drain();
    return {
      work,
      state: () => job.state,
      release: () => this.release(job),
    };
  }

  /** Stops admitting queued requests (running ones finish). */
  pause(): void {
    this.paused = true;
  }

  /** Admits queued requests again. */
  resume(): void {
    this.paused = false;
    this.drain();
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Sequences running and waiting, as the `/metrics` gauges report them. */
  gauges(): { running: number; waiting: number } {
    return { running: this.runningWork, waiting: this.waitingWork };
  }

  private release(job: Job): void {
    if (job.state === 'running') {
      this.free += job.slots;
      this.runningWork -= job.work;
    } else if (job.state === 'waiting') {
      const at = this.queue.indexOf(job);
      if (at >= 0) this.queue.splice(at, 1);
      this.waitingWork -= job.work;
    }
    job.state = 'done';
    this.drain();
  }

  private drain(): void {
    while (!this.paused && this.queue.length > 0 && this.free >= this.queue[0]!.slots) {
      const job = this.queue.shift()!;
      this.free -= job.slots;
      this.waitingWork -= job.work;
      this.runningWork += job.work;
      job.state = 'running';
      job.onAdmit();
    }
  }
}
