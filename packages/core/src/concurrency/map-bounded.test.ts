import { describe, expect, it } from 'vitest';
import { createLimiter, mapBounded } from './map-bounded.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('mapBounded', () => {
  it('keeps input order and never runs more than `jobs` at once', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    const out = await mapBounded(
      [5, 1, 4, 2, 3, 0],
      2,
      async (x) => {
        running++;
        peak = Math.max(peak, running);
        for (let i = 0; i < x; i++) await tick();
        running--;
        return x * 10;
      },
      { onSettled: (done) => seen.push(done) },
    );
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('stops starting work after a failure and rethrows it', async () => {
    const started: number[] = [];
    await expect(
      mapBounded([1, 2, 3, 4], 1, async (x) => {
        started.push(x);
        if (x === 2) throw new Error('boom');
        return x;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });

  it('starts nothing new once its signal aborts, leaving the items never started undefined', async () => {
    const stop = new AbortController();
    const out = await mapBounded(
      [1, 2, 3, 4],
      1,
      async (x) => {
        if (x === 2) stop.abort();
        return x * 10;
      },
      { signal: stop.signal },
    );
    expect(out).toEqual([10, 20, undefined, undefined]);
  });

  it('refuses a concurrency that is not an integer ≥ 1 instead of mapping nothing', async () => {
    for (const jobs of [0, 1.5, Number.NaN]) {
      await expect(mapBounded([1], jobs, async (x) => x)).rejects.toThrow(RangeError);
      expect(() => createLimiter(jobs)).toThrow(RangeError);
    }
  });
});

describe('createLimiter', () => {
  it('bounds tasks started from a stream and reports the first failure at drain', async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    for (let i = 0; i < 6; i++) {
      await limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
        if (i === 3) throw new Error('task 3');
      });
    }
    await expect(limiter.drain()).rejects.toThrow('task 3');
    expect(peak).toBe(2);
  });
});
