/**
 * The overlap simulation of bench/overlap: inference servers with the fake
 * vLLM's capacity model (a request of n completions holds n of the server's
 * slots until its longest completion is decoded at a fixed time per token;
 * requests wait FIFO for room), each adding up its own busy time (slot-time
 * spent decoding, over its slots); a trainer whose step time is a time per
 * token of the step's completions; and the coordinator of
 * packages/orchestrator in either mode. Serial (`maxStaleness` 0): a step's
 * rollouts start after the previous step's sync; its sync pauses an idle
 * fleet. Overlapped (k ≥ 1): step s may be sampled once step s − k − 1 is
 * synced, the trainer still takes steps in order, and a sync is an in-flight
 * update (vLLM's keep pause): running requests freeze for the sync (or its
 * last `pauseShare`, the servers' part) and go on.
 * At the trainer, core's decideStaleness regenerates groups more than k
 * versions old. Virtual time: the figures do not depend on the machine.
 */
import { createRng, decideStaleness } from '@differad/core';

/** One simulated run. */
export interface SimSettings {
  readonly servers: number;
  readonly slotsPerServer: number;
  readonly msPerToken: number;
  readonly pairsPerStep: number;
  readonly groupSize: number;
  readonly minTokens: number;
  readonly maxTokens: number;
  readonly steps: number;
  readonly maxStaleness: number;
  readonly trainerMsPerToken: number;
  readonly syncMs: number;
  readonly seed: number;
  /** Share of first samplings sampled once more (a group whose rewards do not vary); default 0. */
  readonly resampleRate?: number;
  /** How waiting requests are served: in arrival order, or the oldest step first (the fleet's priority, a rollout's step); default 'step'. */
  readonly order?: 'fifo' | 'step';
  /**
   * The share of a sync that pauses the fleet: its last part, after the
   * trainer's own part. 1 (the default): all of it, as in an nccl sync, where
   * the servers take the broadcast paused. A disk sync pauses the servers
   * only to load the folder the trainer exported meanwhile: the load's share.
   */
  readonly pauseShare?: number;
}

/** What a run measured. */
export interface SimResult {
  readonly wallMs: number;
  readonly completions: number;
  /** Σ over servers of decoding slot-time ÷ (slots × wall). */
  readonly fleetBusy: number;
  /**
   * The same from the first training to the last completion decoded: the
   * run without its start (the first step's generation, which nothing can
   * overlap) and its end (the last steps' training, with nothing left to
   * generate), which is what the whole-run share tends to over a long run.
   */
  readonly fleetBusySteady: number;
  readonly trainerBusy: number;
  /** Completions trained at each age. */
  readonly staleness: readonly number[];
  readonly regenerated: number;
  /** Requests an in-flight update fell inside (they decoded with two versions). */
  readonly spanning: number;
}

interface Request {
  readonly step: number;
  readonly slot: number;
  readonly attempt: number;
  readonly tokens: number;
  readonly serviceMs: number;
  server: number;
  finish: number;
  version: number;
  spanned: boolean;
}

/** The token counts of a step's completions, drawn by (seed, step, slot, attempt) so both modes sample the same work. */
function drawGroup(s: SimSettings, step: number, slot: number, attempt: number): number[] {
  const rng = createRng(`${s.seed}:${step}:${slot}:${attempt}`);
  return Array.from({ length: s.groupSize }, () => rng.int(s.minTokens, s.maxTokens));
}

/** Runs `steps` steps and reports throughput, busy shares and staleness. */
export function simulate(s: SimSettings): SimResult {
  const free = Array.from({ length: s.servers }, () => s.slotsPerServer);
  const busySlotMs = Array.from({ length: s.servers }, () => 0);
  const queue: Request[] = [];
  const running = new Set<Request>();
  const done = new Map<number, Request[]>();
  const attempts = new Map<string, number>();
  const histogram = Array.from({ length: s.maxStaleness + 1 }, () => 0);
  let now = 0;
  let version = 0;
  let synced = 0; // steps trained and synced
  let queuedUpTo = -1;
  // A holder, not a `let`: it is set inside startTraining, which narrowing does not follow.
  const trainer: { job: { step: number; until: number } | null } = { job: null };
  // A sync: the trainer's part until `pauseAt`, then the servers' (the fleet paused) until `until`.
  let sync: { readonly pauseAt: number; readonly until: number; frozen: boolean } | null = null;
  const paused = () => sync !== null && sync.frozen;
  let trainerBusyMs = 0;
  // The steady window: from the first training to the last completion decoded.
  let steadyFrom: number | null = null;
  let steadySlotMs = 0;
  let lastDecoded = 0;
  let completions = 0;
  let regenerated = 0;
  let spanning = 0;

  const request = (step: number, slot: number): Request => {
    const key = `${step}:${slot}`;
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    const tokens = drawGroup(s, step, slot, attempt);
    return {
      step,
      slot,
      attempt,
      tokens: tokens.reduce((a, b) => a + b, 0),
      serviceMs: Math.max(...tokens) * s.msPerToken,
      server: -1,
      finish: 0,
      version: 0,
      spanned: false,
    };
  };
  // A waiting request of an older step goes ahead of those of later steps (the fleet's priority), unless the order is FIFO.
  const enqueue = (r: Request) => {
    let at = queue.length;
    if ((s.order ?? 'step') === 'step') while (at > 0 && queue[at - 1]!.step > r.step) at -= 1;
    queue.splice(at, 0, r);
  };
  const needsResample = (r: Request) =>
    r.attempt === 0 && (s.resampleRate ?? 0) > 0 && createRng(`${s.seed}:${r.step}:${r.slot}:resample`).next() < s.resampleRate!;
  const enqueueAllowed = () => {
    while (queuedUpTo + 1 < s.steps && queuedUpTo + 1 <= synced + s.maxStaleness) {
      queuedUpTo += 1;
      for (let k = 0; k < s.pairsPerStep; k++) queue.push(request(queuedUpTo, k));
    }
  };
  const dispatch = () => {
    if (paused()) return; // new requests wait
    while (queue.length > 0) {
      const need = Math.min(s.groupSize, s.slotsPerServer);
      let best = -1;
      for (let i = 0; i < s.servers; i++) if (free[i]! >= need && (best < 0 || free[i]! > free[best]!)) best = i;
      if (best < 0) return;
      const r = queue.shift()!;
      free[best]! -= need;
      Object.assign(r, { server: best, finish: now + r.serviceMs, version });
      running.add(r);
    }
  };
  const startTraining = () => {
    const step = synced;
    if (trainer.job || sync !== null || step >= s.steps) return;
    const groups = done.get(step) ?? [];
    if (groups.length < s.pairsPerStep) return;
    const decision = decideStaleness(
      groups.map((g) => ({ version: g.version, completions: s.groupSize })),
      version,
      s.maxStaleness,
    );
    if (decision.regenerate.length > 0) {
      regenerated += decision.regenerate.length;
      const stale = new Set(decision.regenerate.map((i) => groups[i]!.slot));
      done.set(
        step,
        groups.filter((g) => !stale.has(g.slot)),
      );
      queue.unshift(...[...stale].map((k) => request(step, k)));
      return;
    }
    decision.histogram.forEach((n, age) => (histogram[age]! += n));
    const tokens = groups.reduce((a, g) => a + g.tokens, 0);
    const ms = tokens * s.trainerMsPerToken;
    trainerBusyMs += ms;
    steadyFrom ??= now;
    trainer.job = { step, until: now + ms };
  };

  enqueueAllowed();
  dispatch();
  while (synced < s.steps) {
    const nextFinish = paused() ? Infinity : Math.min(...[...running].map((r) => r.finish), Infinity);
    const nextSync = sync === null ? Infinity : sync.frozen ? sync.until : sync.pauseAt;
    const t = Math.min(nextFinish, nextSync, trainer.job?.until ?? Infinity);
    if (!Number.isFinite(t)) throw new Error('simulation stalled');
    // Servers decode while not paused for a sync.
    if (!paused())
      for (const r of running) {
        const slotMs = (t - now) * Math.min(s.groupSize, s.slotsPerServer);
        busySlotMs[r.server]! += slotMs;
        if (steadyFrom !== null) steadySlotMs += slotMs;
      }
    now = t;
    if (trainer.job && trainer.job.until <= now) {
      trainer.job = null;
      sync = { pauseAt: now + (1 - (s.pauseShare ?? 1)) * s.syncMs, until: now + s.syncMs, frozen: false };
      continue;
    }
    if (sync !== null && !sync.frozen && sync.pauseAt <= now) {
      // A keep pause freezes running requests until the sync ends (in the serial mode none run).
      sync.frozen = true;
      for (const r of running) {
        r.finish += sync.until - now;
        r.spanned = true;
      }
      continue;
    }
    if (sync !== null && sync.until <= now) {
      sync = null;
      version += 1;
      synced += 1;
      enqueueAllowed();
      dispatch();
      startTraining();
      continue;
    }
    for (const r of [...running]) {
      if (r.finish > now) continue;
      running.delete(r);
      lastDecoded = now;
      free[r.server]! += Math.min(s.groupSize, s.slotsPerServer);
      completions += s.groupSize;
      if (r.spanned) spanning += 1;
      if (needsResample(r)) enqueue(request(r.step, r.slot));
      else done.set(r.step, [...(done.get(r.step) ?? []), r]);
    }
    dispatch();
    startTraining();
  }
  const capacity = s.servers * s.slotsPerServer * now;
  return {
    wallMs: now,
    completions,
    fleetBusy: busySlotMs.reduce((a, b) => a + b, 0) / capacity,
    fleetBusySteady:
      steadyFrom !== null && lastDecoded > steadyFrom
        ? steadySlotMs / (s.servers * s.slotsPerServer * (lastDecoded - steadyFrom))
        : Number.NaN,
    trainerBusy: trainerBusyMs / now,
    staleness: histogram,
    regenerated,
    spanning,
  };
}
