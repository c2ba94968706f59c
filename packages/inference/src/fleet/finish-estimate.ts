/** A request this client has in flight at a server: its sequences and when it was sent. */
export interface InFlightRequest {
  readonly work: number;
  readonly sentAt: number;
}

/** What the drain rule knows of one server when a request is dispatched. */
export interface ServerOutlook {
  /** Latency of a request that does not queue there, ms; undefined before the first such request. */
  readonly serviceMs: number | undefined;
  /** When the request being dispatched would finish there if sent now, ms from now; undefined while the speed is unknown. */
  readonly finishMs: number | undefined;
  /** Sequences it decodes at once (its batch): the running count of the last scrape that showed a queue, else its limit. */
  readonly batch: number;
  /** Outstanding sequences there now, this client's and others'. */
  readonly load: number;
  /** Whether its speed can be relied on now (see `FleetServer.outlook`). */
  readonly current: boolean;
}

/**
 * How long a request of `work` sequences sent at `now` would wait for room
 * in the server's batch, ms: the server is taken to run requests in the
 * order they were sent, each for `serviceMs`, at most `batch` sequences at
 * once (a request larger than the batch runs alone). A request already due
 * counts as finishing now. Requests sent together finish together, so the
 * room comes in steps, which a rate (batch ÷ service time) would smear.
 */
export function computeWaitMs(inFlight: readonly InFlightRequest[], batch: number, serviceMs: number, now: number, work: number): number {
  const running: { end: number; slots: number }[] = [];
  let free = batch;
  const admit = (r: InFlightRequest): number => {
    const slots = Math.min(r.work, batch);
    let at = r.sentAt;
    while (free < slots && running.length > 0) {
      let first = 0;
      for (let k = 1; k < running.length; k++) if (running[k]!.end < running[first]!.end) first = k;
      const [done] = running.splice(first, 1);
      free += done!.slots;
      at = Math.max(at, done!.end);
    }
    free -= slots;
    running.push({ end: Math.max(now, at + serviceMs), slots });
    return at;
  };
  for (const r of [...inFlight].sort((a, b) => a.sentAt - b.sentAt)) admit(r);
  return Math.max(0, admit({ work, sentAt: now }) - now);
}

/**
 * When a request waiting in the fleet's queue, with `backlog` sequences
 * there (itself included), should finish on one of `others` instead, ms from
 * now. Only servers whose service time beats `deadline` count. It is the
 * later of: the soonest any of them would finish the request if it had it
 * now, and the time they need for the whole backlog: the room left in their
 * batches takes part of it at once; the rest, and the sequences queued at
 * those servers, drain at their summed `batch ÷ serviceMs`; then the fastest
 * of them takes one service time. Undefined when none counts.
 */
export function computeDrainMs(others: readonly ServerOutlook[], backlog: number, deadline: number): number | undefined {
  let rate = 0;
  let queued = 0;
  let room = 0;
  let fastest = Number.POSITIVE_INFINITY;
  let soonest = Number.POSITIVE_INFINITY;
  for (const f of others) {
    if (!f.current || f.serviceMs === undefined || f.finishMs === undefined || f.serviceMs >= deadline) continue;
    rate += Math.max(1, f.batch) / f.serviceMs;
    queued += Math.max(0, f.load - f.batch);
    room += Math.max(0, f.batch - f.load);
    fastest = Math.min(fastest, f.serviceMs);
    soonest = Math.min(soonest, f.finishMs);
  }
  return rate > 0 ? Math.max(soonest, Math.max(0, backlog + queued - room) / rate + fastest) : undefined;
}

/**
 * The drain rule: whether the request being dispatched should skip `server`
 * (which has room for it under its limit) and wait for `others`, because
 * they would finish it, and the rest of the `backlog`, sooner than it would
 * finish there. A server of
 * unknown or out-of-date speed is never skipped, so it gets work and its
 * speed is learned again. With a long backlog nothing is held: every server
 * is needed; at the end of a batch of work the slow servers' last requests,
 * and requests that would wait behind a full batch, would otherwise set its
 * end.
 */
export function shouldHold(server: ServerOutlook, others: readonly ServerOutlook[], backlog: number): boolean {
  const own = server.finishMs;
  if (!server.current || own === undefined) return false;
  const elsewhere = computeDrainMs(others, backlog, own);
  return elsewhere !== undefined && elsewhere < own;
}
