import { describe, expect, it } from 'vitest';
import { type DrainView, decideDrainHold, drainHoldEndsAt } from './drain-hold.js';

/** A server answering 45-token requests in `latencyMs` (queue-free), with `inFlight` sequences of a 32 limit. */
const view = (latencyMs: number, inFlight: number, over: Partial<DrainView> = {}): DrainView => ({
  speed: latencyMs / 45,
  latencyMs,
  tokens: 45,
  inFlight,
  idleSince: 0,
  batch: undefined,
  limit: 32,
  ...over,
});
const fast = () => [view(225, 24), view(225, 24), view(225, 24)];
const hold = (s: DrainView, backlog: number, extra: { now?: number; load?: number } = {}) =>
  decideDrainHold(s, [...fast(), s], { backlog, now: extra.now ?? 100, load: extra.load ?? s.inFlight, work: 8 });

describe('decideDrainHold', () => {
  it('holds a clearly slower server while the faster ones would finish a short backlog sooner, not a long one', () => {
    // 3 × 32 sequences per 225 ms: 16 sequences are done by ~265 ms, before 675; 2,000 take ~4.9 s.
    expect(hold(view(675, 8), 16)).toBe(true);
    expect(hold(view(675, 8), 2_000)).toBe(false);
  });

  it('holds an idle slower server for at most 10 of its request times', () => {
    expect(hold(view(675, 0), 16, { now: 100 })).toBe(true);
    expect(hold(view(675, 0), 16, { now: 10 * 675 + 1 })).toBe(false);
  });

  it("counts one more request time when the request would wait past the server's batch", () => {
    // ~300 sequences: done by ~930 ms at the fast servers; 675 ms alone, 1,350 behind a full batch.
    expect(hold(view(675, 32, { limit: 48 }), 300)).toBe(false);
    expect(hold(view(675, 32, { limit: 48, batch: 32 }), 300)).toBe(true);
  });

  it('never holds a server only a little slower, or when a speed is unknown', () => {
    expect(hold(view(300, 8), 8)).toBe(false);
    expect(hold(view(675, 8, { speed: undefined }), 8)).toBe(false);
    const unknownFast = [view(225, 24, { speed: undefined })];
    expect(decideDrainHold(view(675, 8), unknownFast, { backlog: 8, now: 0, load: 8, work: 8 })).toBe(false);
  });

  it('says when the hold on an idle server ends, the first moment it is no longer held', () => {
    const idle = view(675, 0, { idleSince: 50 });
    const ends = drainHoldEndsAt(idle)!;
    expect(ends).toBeCloseTo(50 + 10 * 675, 6);
    expect(hold(idle, 16, { now: ends })).toBe(true);
    expect(hold(idle, 16, { now: ends + 1 })).toBe(false);
    expect(drainHoldEndsAt(view(675, 8))).toBeUndefined();
    expect(drainHoldEndsAt(view(675, 0, { speed: undefined }))).toBeUndefined();
  });
});
