/**
 * The drain rule of the inference fleet (docs/architecture.md §7): at the
 * end of a batch of work, whether a request should wait for servers clearly
 * faster than the one that has room for it now. Pure: the fleet client
 * passes what it measured of each server.
 */

/** How much slower (per token, queue-free) than another server one must be before it may be passed over. */
export const DRAIN_SLOWER = 1.5;
/** Answers a server must have given before its speed counts (one or two are noise); a full baseline window when that is shorter. */
export const DRAIN_MIN_SAMPLES = 8;
/** An idle server is held at most this many of its own request times, then gets work again so its speed is measured anew. */
export const DRAIN_MAX_IDLE = 10;

/** What the fleet knows of one server, in ms and sequences. */
export interface DrainView {
  /** Queue-free ms per token (the windowed minimum), undefined until enough answers. */
  readonly speed: number | undefined;
  /** EWMA of a request's latency, undefined before the first answer. */
  readonly latencyMs: number | undefined;
  /** EWMA of the tokens of a request's longest completion. */
  readonly tokens: number;
  /** Sequences this client has in flight there. */
  readonly inFlight: number;
  /** When this client last had nothing in flight there. */
  readonly idleSince: number;
  /** The server's batch (running sequences of a scrape that saw a queue), undefined before one did. */
  readonly batch: number | undefined;
  /** The adaptive concurrency limit, sequences. */
  readonly limit: number;
}

/**
 * Whether a request that would start now on `s` finishes later than if it
 * waited for the servers clearly faster than `s` ({@link DRAIN_SLOWER} per
 * token, queue-free, so identical servers never pass each other over on
 * noise). With `backlog` sequences waiting (this request included), the
 * faster servers start it after about `backlog ÷ R` ms, R being their summed
 * `limit ÷ latency` (sequences per ms), and finish it one latency of theirs
 * later. `s` would finish it after its latency when busy, one queue-free
 * request time more when the request would wait past the server's batch
 * (`load + work` above it), or its queue-free time when idle. An idle server
 * is held at most {@link DRAIN_MAX_IDLE} of its request times in a row.
 */
export function decideDrainHold(
  s: DrainView,
  candidates: readonly DrainView[],
  at: { readonly backlog: number; readonly now: number; readonly load: number; readonly work: number },
): boolean {
  const own = s.speed;
  if (own === undefined || s.latencyMs === undefined) return false;
  const queueFree = own * s.tokens;
  if (s.inFlight === 0 && at.now > (drainHoldEndsAt(s) ?? Number.POSITIVE_INFINITY)) return false;
  let finish = s.inFlight > 0 ? s.latencyMs : queueFree;
  // Past the server's batch the request waits there for running ones to end: up to one more request time.
  if (s.inFlight > 0 && s.batch !== undefined && at.load + at.work > s.batch) finish += queueFree;
  let fastest = Number.POSITIVE_INFINITY;
  let rate = 0;
  for (const f of candidates) {
    if (f.speed === undefined || f.latencyMs === undefined || f.speed * DRAIN_SLOWER > own) continue;
    fastest = Math.min(fastest, f.latencyMs);
    rate += f.limit / f.latencyMs;
  }
  return rate > 0 && at.backlog / rate + fastest < finish;
}

/**
 * When the hold on an idle server ends: {@link DRAIN_MAX_IDLE} of its
 * queue-free request times after it fell idle, past which
 * {@link decideDrainHold} no longer holds it. Undefined for a busy server or
 * one whose speed is not known yet (never held while idle, or held only
 * until one of its requests ends). The fleet looks at its queue again then,
 * so the bound holds even when nothing else happens meanwhile.
 */
export function drainHoldEndsAt(s: DrainView): number | undefined {
  if (s.inFlight > 0 || s.speed === undefined || s.latencyMs === undefined) return undefined;
  return s.idleSince + DRAIN_MAX_IDLE * s.speed * s.tokens;
}
