import { DRAIN_MIN_SAMPLES, type DrainView, decideDrainHold, drainHoldEndsAt } from '@differad/core';
import type { ServerConnection } from '../http/server-connection.js';
import type { VllmLoad } from '../metrics/prometheus.js';
import { ConcurrencyLimit, type ConcurrencyLimitOptions } from './concurrency-limit.js';

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
  /** The adaptive limit, sequences. */
  readonly concurrencyLimit: number;
  /** Running + waiting sequences at the last scrape of `/metrics` (null when unknown or stale). */
  readonly serverQueue: number | null;
  /** Outstanding work the router uses for this server. */
  readonly load: number;
}

const EWMA_WEIGHT = 0.2;

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
  /** Why it was last refused (a failed request, a failed probe, a readmit check, lost weights): what an ejection is reported with. */
  why: string | null = null;
  /** The last weight label (`x-weight-version`) the server sent; null before its first. */
  weightLabel: number | null = null;
  /** Ejections since the last success; sets the probe backoff. */
  ejections = 0;
  latencyEwma: number | undefined;
  /** EWMA of the tokens of a request's longest completion (what its time scales with); 0 before the first. */
  tokensEwma = 0;
  /** When this client last had nothing in flight here (the drain rule's hold on an idle server is bounded). */
  idleSince = Number.NEGATIVE_INFINITY;
  /** False once `/metrics` proved to have no vLLM gauges. */
  metricsSupported = true;
  cancelProbe: (() => void) | undefined;
  /** The server's batch: the running sequences (all clients) of the last scrape that saw requests waiting; undefined before one did. */
  batch: number | undefined;
  private external = 0;
  private serverQueue: number | undefined;
  private scrapedAt = Number.NEGATIVE_INFINITY;

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

  /** Records a scrape (undefined when it failed); `ours` = the most this client had in flight during it. */
  recordGauges(load: VllmLoad | undefined, ours: number, now: number): void {
    const queue = load && load.running + load.waiting;
    if (load) this.limiter.onServerGauges(load.running, load.waiting, now);
    if (load && load.waiting > 0) this.batch = load.running;
    this.serverQueue = queue;
    this.external = queue === undefined ? 0 : Math.max(0, queue - ours);
    this.scrapedAt = queue === undefined ? Number.NEGATIVE_INFINITY : now;
  }

  reserve(work: number): void {
    this.inFlight += work;
    this.inFlightRequests += 1;
  }

  release(work: number, now: number): void {
    this.inFlight -= work;
    this.inFlightRequests -= 1;
    if (this.inFlight === 0) this.idleSince = now;
  }

  /** Queue-free ms per token (the limit's baseline) once DRAIN_MIN_SAMPLES requests were answered (a full window if it is smaller); undefined before. */
  get speed(): number | undefined {
    const { limiter } = this;
    return limiter.samples >= Math.min(DRAIN_MIN_SAMPLES, limiter.baselineWindow) ? limiter.baseline : undefined;
  }

  /** A success: feeds the limit and the EWMA, clears the failure streak. */
  recordSuccess(sample: { work: number; latencyMs: number; tokens: number; outstanding: number; now: number }): void {
    this.completed += 1;
    this.consecutiveFailures = 0;
    this.ejections = 0;
    this.latencyEwma =
      this.latencyEwma === undefined ? sample.latencyMs : this.latencyEwma + EWMA_WEIGHT * (sample.latencyMs - this.latencyEwma);
    this.tokensEwma = this.completed === 1 ? sample.tokens : this.tokensEwma + EWMA_WEIGHT * (sample.tokens - this.tokensEwma);
    this.limiter.onSuccess(sample);
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
      concurrencyLimit: this.limiter.limit,
      serverQueue: fresh && this.serverQueue !== undefined ? this.serverQueue : null,
      load: this.load(now, maxAgeMs),
    };
  }
}

/** What the drain rule (core's decideDrainHold) needs of a server. */
function toDrainView(s: FleetServer): DrainView {
  return {
    speed: s.speed,
    latencyMs: s.latencyEwma,
    tokens: s.tokensEwma,
    inFlight: s.inFlight,
    idleSince: s.idleSince,
    batch: s.batch,
    limit: s.limiter.limit,
  };
}

/** The servers {@link pickServer} chooses among: live ones not in `exclude`, all live ones when that leaves none. */
function candidatesOf(servers: readonly FleetServer[], exclude: ReadonlySet<FleetServer>): readonly FleetServer[] {
  const live = servers.filter((s) => !s.ejected);
  const preferred = live.filter((s) => !exclude.has(s));
  return preferred.length > 0 ? preferred : live;
}

/**
 * The first moment after `now` at which the drain rule lets go of an idle
 * candidate it may be holding (core's `drainHoldEndsAt`), or undefined when
 * none is idle with a known speed. {@link pickServer} found no server: the
 * fleet looks again then, whether or not a request ends before.
 */
export function nextHoldEnd(servers: readonly FleetServer[], exclude: ReadonlySet<FleetServer>, now: number): number | undefined {
  let first: number | undefined;
  for (const s of candidatesOf(servers, exclude)) {
    const ends = drainHoldEndsAt(toDrainView(s));
    if (ends !== undefined && ends >= now && (first === undefined || ends < first)) first = ends;
  }
  return first;
}

/**
 * Least outstanding work relative to the server's limit, among live servers
 * not in `exclude` (all live ones when that leaves none). A server takes a
 * request while `load + work ≤ limit`, or when this client has nothing in
 * flight there (so a request larger than the limit still runs). Ties go
 * round-robin from `start`. Undefined when every candidate is full. With
 * `backlog` (sequences waiting for a server, this request included) short,
 * a server much slower than the others, busy or idle, is passed over while
 * the faster ones would finish the request sooner (core's `decideDrainHold`):
 * at the end of a batch of work the slow servers' last requests otherwise
 * set its end.
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
  const candidates = candidatesOf(servers, exclude);
  // Built at the first server with room: a full fleet (a long queue's usual state) needs none.
  let views: DrainView[] | undefined;
  let best: FleetServer | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (let k = 0; k < candidates.length; k++) {
    const at = (start + k) % candidates.length;
    const s = candidates[at]!;
    const load = s.load(now, maxAgeMs);
    if (s.inFlight > 0 && load + work > s.limiter.limit) continue;
    views ??= candidates.map(toDrainView);
    if (decideDrainHold(views[at]!, views, { backlog, now, load, work })) continue;
    const score = load / s.limiter.limit;
    if (score < bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}
