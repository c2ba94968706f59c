/** Settings of the adaptive per-server concurrency limit, in sequences (a request with n choices is n). */
export interface ConcurrencyLimitOptions {
  /**
   * Starting limit (default 32: four requests of G = 8, a quarter of the
   * smallest batch vLLM 0.32.0 defaults to — `max_num_seqs` 128 on CPU, 256
   * on most GPUs, 1024 on H100/H200, engine/arg_utils.py — so the first
   * round trip fills a server's batch instead of half of it; a smaller
   * server's queue shows in its gauges and latency and cuts it).
   */
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  /** A per-token latency above `tolerance × baseline` counts as queueing (default 1.5). */
  readonly tolerance: number;
  /** The smallest cut on queueing: the limit is multiplied by at most this (default 0.9). */
  readonly backoff: number;
  /** Multiplicative decrease on a failure or timeout (default 0.5). */
  readonly failureBackoff: number;
  /** Samples in the windowed minimum that is the baseline (default 200). */
  readonly baselineWindow: number;
  /** When the server reports waiting requests, the limit is capped at `running × (1 + queueHeadroom)` plus {@link queueRequests} requests (default 0). */
  readonly queueHeadroom: number;
  /**
   * Requests of the last answered one's size that the cap lets wait at the
   * server beyond its running batch (default 1): when a request ends, the
   * server admits the waiting one at once instead of leaving its slots idle
   * for the round trip to this client and back (bench/fleet's workload on
   * 16 servers: 94.2–95.0% of capacity with none, 95.7–96.2% with one).
   */
  readonly queueRequests: number;
}

/** Defaults of {@link ConcurrencyLimitOptions}. */
export const DEFAULT_CONCURRENCY_LIMIT: ConcurrencyLimitOptions = {
  initial: 32,
  min: 1,
  max: 1024,
  tolerance: 1.5,
  backoff: 0.9,
  failureBackoff: 0.5,
  baselineWindow: 200,
  queueHeadroom: 0,
  queueRequests: 1,
};

/** One finished request as the limit sees it. */
export interface LimitSample {
  /** Sequences of the request (its n). */
  readonly work: number;
  readonly latencyMs: number;
  /** Tokens of its longest completion: decode time scales with it, so latency is compared per token. */
  readonly tokens: number;
  /** The server's outstanding work when the request was sent, itself included. */
  readonly outstanding: number;
  readonly now: number;
}

/**
 * AIMD on latency with a gradient-sized decrease, per server. The signal is
 * latency per generated token of a request's longest completion, compared
 * with its windowed minimum (the baseline: the server's speed with no queue).
 *
 * - At or below `tolerance × baseline` the server is not queueing: the limit
 *   grows by the request's work while in slow start (doubling every round
 *   trip), then by `work² / limit` (about one request per round trip). It only
 *   grows when the limit was in use (outstanding ≥ half the limit), so a
 *   lightly used server does not inflate it.
 * - Above it, requests are waiting in the server's queue: slow start ends and
 *   the limit is multiplied by `tolerance × baseline / latency`, clamped to
 *   [0.5, backoff] — the further past the tolerance, the larger the cut.
 *   Once per window, as TCP reacts to losses: only a request sent after the
 *   last cut can cut again, so replies queued under the old limit count once.
 * - A failure or timeout multiplies it by `failureBackoff` (same rule).
 * - Where `/metrics` is scraped, the gauges act sooner than latency can (a
 *   queued request shows its latency only when it returns): a scrape with
 *   waiting requests ends slow start and caps the limit at the running count
 *   times `1 + queueHeadroom`, plus `queueRequests` requests of the last
 *   answered one's size (a cut, for the once-per-window rule). This stops
 *   slow start from overshooting to several times the batch size.
 *
 * The limit settles near the server's batch size plus one request: additive
 * increase probes past it, and the latency of the parked requests or the
 * next scrape cuts it back. The one request waiting there takes the slots of
 * the next one to end; the rest of the backlog waits in the fleet's queue,
 * where any server that frees a slot can take it, rather than in one
 * server's queue.
 */
export class ConcurrencyLimit {
  private current: number;
  private slowStart = true;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private readonly window: number[] = [];
  private cursor = 0;
  private minimum = Number.POSITIVE_INFINITY;
  /** Sequences of the last answered request (0 before one). */
  private lastWork = 0;

  constructor(private readonly options: ConcurrencyLimitOptions = DEFAULT_CONCURRENCY_LIMIT) {
    this.current = options.initial;
  }

  /** The limit in sequences (fractional internally; compare with `<=`). */
  get limit(): number {
    return this.current;
  }

  /** The per-token latency of an unqueued request, or undefined before the first sample. */
  get baseline(): number | undefined {
    return this.window.length === 0 ? undefined : this.minimum;
  }

  /** Samples the baseline is the minimum of (at most `baselineWindow`). */
  get samples(): number {
    return this.window.length;
  }

  /** How many samples the baseline is taken over once the window is full. */
  get baselineWindow(): number {
    return this.options.baselineWindow;
  }

  /** Feeds a success. */
  onSuccess(sample: LimitSample): void {
    const perToken = sample.latencyMs / Math.max(1, sample.tokens);
    this.lastWork = sample.work;
    const evicted = this.window.length < this.options.baselineWindow ? undefined : this.window[this.cursor];
    if (evicted === undefined) this.window.push(perToken);
    else this.window[this.cursor] = perToken;
    this.cursor = (this.cursor + 1) % this.options.baselineWindow;
    // The minimum is kept, not searched for on every read (the fleet reads it per candidate server per dispatch).
    this.minimum = evicted === this.minimum && perToken > evicted ? Math.min(...this.window) : Math.min(this.minimum, perToken);
    const baseline = this.minimum;
    const allowed = this.options.tolerance * baseline;
    if (perToken <= allowed) {
      if (sample.outstanding * 2 < this.current) return;
      this.current += this.slowStart ? sample.work : (sample.work * sample.work) / this.current;
      this.current = Math.min(this.options.max, this.current);
      return;
    }
    this.slowStart = false;
    this.decrease(Math.max(0.5, Math.min(this.options.backoff, allowed / perToken)), sample.now - sample.latencyMs, sample.now);
  }

  /** Feeds a failure or timeout of a request sent at `sentAt`. */
  onFailure(sentAt: number, now: number): void {
    this.slowStart = false;
    this.decrease(this.options.failureBackoff, sentAt, now);
  }

  /** Feeds a scrape of the server's gauges (running and waiting sequences, all clients). */
  onServerGauges(running: number, waiting: number, now: number): void {
    if (waiting === 0) return;
    this.slowStart = false;
    const cap = Math.max(this.options.min, running * (1 + this.options.queueHeadroom) + this.options.queueRequests * this.lastWork);
    if (this.current <= cap) return;
    this.current = cap;
    // A cap is a cut: replies queued under the old limit must not cut again.
    this.lastDecrease = now;
  }

  /** Back to the initial limit and slow start (a server probed back in); the baseline is forgotten. */
  reset(initial = this.options.initial): void {
    this.current = Math.max(this.options.min, Math.min(this.options.max, initial));
    this.slowStart = true;
    this.lastDecrease = Number.NEGATIVE_INFINITY;
    this.window.length = 0;
    this.cursor = 0;
    this.minimum = Number.POSITIVE_INFINITY;
  }

  /** Cuts once per window: a request sent before the last cut reflects the old limit, so it cannot cut again. */
  private decrease(factor: number, sentAt: number, now: number): void {
    if (sentAt <= this.lastDecrease) return;
    this.lastDecrease = now;
    this.current = Math.max(this.options.min, this.current * factor);
  }
}
