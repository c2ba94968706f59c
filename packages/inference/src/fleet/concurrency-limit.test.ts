import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit, DEFAULT_CONCURRENCY_LIMIT } from './concurrency-limit.js';

/** A request of 8 sequences and 100 tokens that took `latencyMs` and returned at `now`. */
const sample = (latencyMs: number, outstanding: number, now = latencyMs) => ({ work: 8, latencyMs, tokens: 100, outstanding, now });
const create = (over: Partial<typeof DEFAULT_CONCURRENCY_LIMIT> = {}) => new ConcurrencyLimit({ ...DEFAULT_CONCURRENCY_LIMIT, ...over });

describe('ConcurrencyLimit', () => {
  it('doubles per round trip in slow start while latency stays at the baseline', () => {
    const limit = create({ initial: 16 });
    limit.onSuccess(sample(100, 16));
    limit.onSuccess(sample(100, 16));
    expect(limit.limit).toBe(32);
  });

  it('does not grow while the limit is mostly unused', () => {
    const limit = create({ initial: 64 });
    for (let k = 0; k < 10; k++) limit.onSuccess(sample(100, 8));
    expect(limit.limit).toBe(64);
  });

  it('cuts in proportion to the excess latency, then grows by about one request per round trip', () => {
    const limit = create({ initial: 40 });
    limit.onSuccess(sample(100, 40, 100)); // slow start: 48
    // 3× the baseline per token: cut by 1.5 / 3 = 0.5.
    limit.onSuccess(sample(300, 48, 400));
    expect(limit.limit).toBe(24);
    // 1.8× the baseline: cut by 1.5 / 1.8, within the [0.5, 0.9] clamp.
    const again = create({ initial: 40 });
    again.onSuccess(sample(100, 40, 100));
    again.onSuccess(sample(180, 48, 400));
    expect(again.limit).toBeCloseTo((48 * 1.5) / 1.8, 9);
    const before = again.limit;
    again.onSuccess(sample(100, 40, 500));
    expect(again.limit).toBeCloseTo(before + 64 / before, 9);
  });

  it('cuts once per window: replies to requests sent before the last cut do not cut again', () => {
    const limit = create({ initial: 40 });
    limit.onSuccess(sample(100, 40, 100));
    limit.onSuccess(sample(200, 48, 1_000)); // sent at 800: cut at 1000
    const afterCut = limit.limit;
    limit.onSuccess(sample(250, 48, 1_050)); // sent at 800 too: ignored
    expect(limit.limit).toBe(afterCut);
    limit.onSuccess(sample(200, 48, 1_300)); // sent at 1100, after the cut
    expect(limit.limit).toBeLessThan(afterCut);
  });

  it('compares latency per token, so longer answers are not mistaken for queueing', () => {
    const limit = create({ initial: 16 });
    limit.onSuccess({ work: 8, latencyMs: 100, tokens: 50, outstanding: 16, now: 100 });
    limit.onSuccess({ work: 8, latencyMs: 400, tokens: 200, outstanding: 24, now: 500 });
    expect(limit.limit).toBe(32);
  });

  it('uses the gauges: a scrape with waiting requests ends slow start and caps the limit at the running count plus one request', () => {
    const limit = create({ initial: 16 });
    limit.onServerGauges(16, 0, 0);
    for (let k = 0; k < 4; k++) limit.onSuccess(sample(100, limit.limit, 100 + k));
    expect(limit.limit).toBe(48);
    // 32 running: one more request of the last one's 8 sequences may wait there for the next free slots.
    limit.onServerGauges(32, 16, 200);
    expect(limit.limit).toBe(40);
    // A reply queued under the old limit does not cut below the cap.
    limit.onSuccess(sample(300, 48, 400));
    expect(limit.limit).toBe(40);
    // Out of slow start: growth is additive now (8² / 40).
    limit.onSuccess(sample(100, 40, 500));
    expect(limit.limit).toBe(41.6);
  });

  it('caps at the running count alone with queueRequests 0, and at running × (1 + queueHeadroom) plus the requests', () => {
    const none = create({ initial: 64, queueRequests: 0 });
    none.onSuccess(sample(100, 0));
    none.onServerGauges(32, 8, 200);
    expect(none.limit).toBe(32);
    const both = create({ initial: 64, queueHeadroom: 0.25, queueRequests: 2 });
    both.onSuccess({ ...sample(100, 0), work: 4 });
    both.onServerGauges(32, 8, 200);
    expect(both.limit).toBe(32 * 1.25 + 2 * 4);
  });

  it('halves on failure, never below min, and resets to the initial limit', () => {
    const limit = create({ initial: 16, min: 4 });
    limit.onFailure(0, 10);
    expect(limit.limit).toBe(8);
    limit.onFailure(20, 30);
    limit.onFailure(40, 50);
    expect(limit.limit).toBe(4);
    limit.reset();
    expect(limit.limit).toBe(16);
    expect(limit.baseline).toBeUndefined();
  });

  it('keeps the baseline the minimum of the last `baselineWindow` samples as old ones leave the window', () => {
    const limit = create({ baselineWindow: 3 });
    const perToken: (number | undefined)[] = [];
    // ms per token (100 tokens a request): 5, 1, 7, then 8 replaces 5, 9 replaces the minimum 1, 2 replaces 7.
    for (const ms of [500, 100, 700, 800, 900, 200]) {
      limit.onSuccess(sample(ms, 0));
      perToken.push(limit.baseline);
    }
    expect(perToken).toEqual([5, 1, 1, 1, 7, 2]);
    expect(limit.samples).toBe(3);
  });

  it('never exceeds max', () => {
    const limit = create({ initial: 16, max: 20 });
    for (let k = 0; k < 5; k++) limit.onSuccess(sample(100, 20));
    expect(limit.limit).toBe(20);
  });
});
