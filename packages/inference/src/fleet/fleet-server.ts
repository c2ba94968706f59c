import type { ServerConnection } from '../http/server-connection.js';
import type { VllmLoad } from '../metrics/prometheus.js';
import { ConcurrencyLimit, type ConcurrencyLimitOptions } from './concurrency-limit.js';
import { computeWaitMs, type InFlightRequest, type ServerOutlook, shouldHold } from './finish-estimate.js';

/** What `stats()` reports per server. */
export interface ServerStats {
  readonly url: string;
  /** Sequences this client has in flight there. */
  readonly inFlight: number;
  readonly inFlightRequests: number;
  readonly completed: number;
  readonly failures: number;
  readonly consecutiveFailures: number;
  readonly ejected: boolean;
  /** Latency EWMA of successful requests, ms (null before the first). */
  readonly latencyEwmaMs: number | null;
  /** Latency EWMA of requests that did not queue there (the drain rule's service time), ms (null while unknown). */
  readonly serviceMs: number | null;
  /** The adaptive limit, sequences. */
  readonly concurrencyLimit: number;
  /** Running + waiting sequences at the last scrape of `/metrics` (null when unknown or stale). */
  readonly serverQueue: number | null;
  /** Outstanding work the router uses for this server. */
  readonly load: number;
}

const EWMA_WEIGHT = 0.2;
/** An idle server's speed is out of date this many service times after its last success. */
const IDLE_STALE = 10;
/** A busy server that finished nothing for this many service times may be stuck: its speed is not counted on. */
const BUSY_OVERDUE = 3;

/**
 * One server's state in the fleet. Outstanding work is this client's in-flight
 * sequences plus other clients' work, estimated from the last fresh scrape as
 * `running + waiting − (our in-flight at the scrape)`, never below zero.
 */
export class FleetServer {
  readonly limiter: ConcurrencyLimit;
  inFlight = 0;
  inFlightRequests = 0;
  completed = 0;
  failures = 0;
  consecutiveFailures = 0;
  ejected = false;
  /** Ejections since the last success; sets the probe backoff. */
  ejections = 0;
  latencyEwma: number | undefined;
  /** Latency EWMA of requests sent while the server's load was within its batch: its service time. */
  serviceEwma: number | undefined;
  /** When the last request succeeded there (undefined since the start or a restore). */
  lastSuccessAt: number | undefined;
  /** When this client's in-flight work there last went from none to some. */
  busySince = Number.NEGATIVE_INFINITY;
  /** False once `/metrics` proved to have no vLLM gauges. */
  metricsSupported = true;
  cancelProbe: (() => void) | undefined;
  private external = 0;
  private serverQueue: number | undefined;
  private scrapedAt = Number.NEGATIVE_INFINITY;
  /** Running sequences at the last scrape that showed waiting ones: the server's batch. */
  private batchSeen: number | undefined;
  private readonly requests = new Set<InFlightRequest>();

  constructor(
    readonly connection: ServerConnection,
    readonly index: number,
    limit: ConcurrencyLimitOptions,
  ) {
    this.limiter = new ConcurrencyLimit(limit);
  }

  get url(): string {
    return this.connection.url;
  }

  /** Outstanding work at `now`; gauges older than `maxAgeMs` are ignored. */
  load(now: number, maxAgeMs: number): number {
    return this.inFlight + (now - this.scrapedAt <= maxAgeMs ? this.external : 0);
  }

  /** Sequences the server decodes at once: the running count when a scrape last showed a queue, else the limit. */
  get batch(): number {
    return this.batchSeen ?? this.limiter.limit;
  }

  /**
   * What the drain rule needs at `now` for a request of `work` sequences.
   * Its finish there is the service time after the wait for room behind this
   * client's in-flight requests ({@link computeWaitMs}), with other clients'
   * sequences taking their part of the batch. The speed is current while the
   * server is idle and succeeded within {@link IDLE_STALE} service times, or
   * busy and finished something (or started) within {@link BUSY_OVERDUE}:
   * an idle server that has not been tried for a while is tried again, and
   * one whose requests hang is not counted on to take the backlog.
   */
  outlook(now: number, maxAgeMs: number, work: number): ServerOutlook {
    const serviceMs = this.serviceEwma;
    const batch = this.batch;
    const load = this.load(now, maxAgeMs);
    if (serviceMs === undefined) return { serviceMs, finishMs: undefined, batch, load, current: false };
    const ours = Math.max(Math.min(work, batch), batch - (load - this.inFlight));
    const finishMs = serviceMs + computeWaitMs([...this.requests], ours, serviceMs, now, work);
    const current =
      this.inFlight === 0
        ? this.lastSuccessAt !== undefined && now - this.lastSuccessAt <= IDLE_STALE * serviceMs
        : now - Math.max(this.lastSuccessAt ?? Number.NEGATIVE_INFINITY, this.busySince) <= BUSY_OVERDUE * serviceMs;
    return { serviceMs, finishMs, batch, load, current };
  }

  /** Records a scrape (undefined when it failed); `ours` = the most this client had in flight during it. */
  recordGauges(load: VllmLoad | undefined, ours: number, now: number): void {
    const queue = load && load.running + load.waiting;
    if (load) this.limiter.onServerGauges(load.running, load.waiting, now);
    if (load && load.waiting > 0 && load.running > 0) this.batchSeen = load.running;
    this.serverQueue = queue;
    this.external = queue === undefined ? 0 : Math.max(0, queue - ours);
    this.scrapedAt = queue === undefined ? Number.NEGATIVE_INFINITY : now;
  }

  /** Counts a request of `work` sequences sent at `now` as in flight here; pass the result to {@link release}. */
  reserve(work: number, now: number): InFlightRequest {
    if (this.inFlight === 0) this.busySince = now;
    const request = { work, sentAt: now };
    this.requests.add(request);
    this.inFlight += work;
    this.inFlightRequests += 1;
    return request;
  }

  release(request: InFlightRequest): void {
    if (!this.requests.delete(request)) return;
    this.inFlight -= request.work;
    this.inFlightRequests -= 1;
  }

  /**
   * A success: feeds the limit and the EWMAs, clears the failure streak. The
   * service time learns from requests sent with at most a batch outstanding
   * (the others waited in the server's queue); the very first estimate may
   * come from a queued one, scaled by batch ÷ outstanding.
   */
  recordSuccess(sample: { work: number; latencyMs: number; tokens: number; outstanding: number; now: number }): void {
    this.completed += 1;
    this.consecutiveFailures = 0;
    this.ejections = 0;
    this.lastSuccessAt = sample.now;
    this.latencyEwma = ewma(this.latencyEwma, sample.latencyMs);
    const batch = this.batch;
    if (sample.outstanding <= batch) this.serviceEwma = ewma(this.serviceEwma, sample.latencyMs);
    else this.serviceEwma ??= (sample.latencyMs * batch) / sample.outstanding;
    this.limiter.onSuccess(sample);
  }

  /** Probed back in after an ejection: the limit starts over and the speed is learned again. */
  restore(): void {
    this.consecutiveFailures = 0;
    this.limiter.reset();
    this.serviceEwma = undefined;
    this.lastSuccessAt = undefined;
    this.batchSeen = undefined;
  }

  /** A failure that says something about the server (5xx, timeout, lost connection) of a request sent at `sentAt`. */
  recordFailure(sentAt: number, now: number): void {
    this.failures += 1;
    this.consecutiveFailures += 1;
    this.limiter.onFailure(sentAt, now);
  }

  stats(now: number, maxAgeMs: number): ServerStats {
    const fresh = now - this.scrapedAt <= maxAgeMs;
    return {
      url: this.url,
      inFlight: this.inFlight,
      inFlightRequests: this.inFlightRequests,
      completed: this.completed,
      failures: this.failures,
      consecutiveFailures: this.consecutiveFailures,
      ejected: this.ejected,
      latencyEwmaMs: this.latencyEwma ?? null,
      serviceMs: this.serviceEwma ?? null,
      concurrencyLimit: this.limiter.limit,
      serverQueue: fresh && this.serverQueue !== undefined ? this.serverQueue : null,
      load: this.load(now, maxAgeMs),
    };
  }
}

const ewma = (current: number | undefined, sample: number) => (current === undefined ? sample : current + EWMA_WEIGHT * (sample - current));

/**
 * Least outstanding work relative to the server's limit, among live servers
 * not in `exclude` (all live ones when that leaves none). A server takes a
 * request while `load + work ≤ limit`, or when this client has nothing in
 * flight there (so a request larger than the limit still runs). Ties go
 * round-robin from `start`. Undefined when every candidate is full. With
 * `backlog` (sequences waiting for a server, this request included) short,
 * a server is passed over while the other candidates would finish the
 * request clearly sooner (the drain rule, {@link shouldHold}): a slower
 * server, or one where it would queue behind a full batch. At the end of a
 * batch of work those requests otherwise set its end.
 */
export function pickServer(
  servers: readonly FleetServer[],
  work: number,
  exclude: ReadonlySet<FleetServer>,
  now: number,
  maxAgeMs: number,
  start: number,
  backlog = work,
): FleetServer | undefined {
  const live = servers.filter((s) => !s.ejected);
  const preferred = live.filter((s) => !exclude.has(s));
  const candidates = preferred.length > 0 ? preferred : live;
  let outlooks: Map<FleetServer, ServerOutlook> | undefined;
  const holds = (s: FleetServer) => {
    outlooks ??= new Map(candidates.map((c) => [c, c.outlook(now, maxAgeMs, work)]));
    const others = candidates.filter((f) => f !== s).map((f) => outlooks!.get(f)!);
    return shouldHold(outlooks.get(s)!, others, backlog);
  };
  let best: FleetServer | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (let k = 0; k < candidates.length; k++) {
    const s = candidates[(start + k) % candidates.length]!;
    const load = s.load(now, maxAgeMs);
    if (s.inFlight > 0 && load + work > s.limiter.limit) continue;
    const score = load / s.limiter.limit;
    if (score < bestScore && !holds(s)) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}
