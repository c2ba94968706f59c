import { describe, expect, it } from 'vitest';
import { computeDrainMs, computeWaitMs, type ServerOutlook, shouldHold } from './finish-estimate.js';

/**
 * A server with a service time (ms per request that does not queue), a batch
 * of 32 sequences and `load` outstanding; a request sent now finishes after
 * `finishMs` (its service time plus the wait for room behind `load`, as a rate).
 */
const at = (serviceMs: number | undefined, load: number, current = true, batch = 32): ServerOutlook => ({
  serviceMs,
  finishMs: serviceMs === undefined ? undefined : serviceMs + (Math.max(0, load + 8 - batch) * serviceMs) / batch,
  batch,
  load,
  current,
});

// The bench's fleet: fast servers take 226 ms a request, every 4th one 3× longer; 32 sequences at once, n = 8.
const FAST = 226;
const SLOW = 678;

/** Requests of 8 sequences sent at these times. */
const sent = (...times: number[]) => times.map((sentAt) => ({ work: 8, sentAt }));

describe('computeWaitMs', () => {
  it.each([
    ['an idle server: none', sent(), 0],
    ['room in the batch: none', sent(900, 950, 990), 0],
    // 4 requests sent together fill the batch and finish together at 900 + 226: the next one waits for them.
    ['a full batch sent together: until it finishes', sent(900, 900, 900, 900), 126],
    ['a full batch sent in steps: until the first finishes', sent(800, 850, 900, 950), 26],
    // A fifth request already waits behind the batch and takes the first room: the new one waits for the second.
    ['behind a request already waiting there', sent(800, 850, 900, 950, 960), 76],
    ['a request past its due time counts as finishing now', sent(100, 100, 100, 100), 0],
  ])('%s', (_, inFlight, expected) => {
    expect(computeWaitMs(inFlight, 32, FAST, 1_000, 8)).toBe(expected);
  });

  it('runs a request larger than the batch alone, after everything before it', () => {
    expect(computeWaitMs(sent(900), 32, FAST, 1_000, 64)).toBe(126);
  });
});

describe('computeDrainMs', () => {
  it.each([
    // 3 full fast servers absorb 96 sequences per 226 ms: 64 sequences start after ~151 ms.
    ['a backlog on three full fast servers', [at(FAST, 32), at(FAST, 32), at(FAST, 32)], 64, 64 / (96 / FAST) + FAST],
    // Their own queued sequences (8 each beyond the batch) come first.
    ['fast servers with queues of their own', [at(FAST, 40), at(FAST, 40), at(FAST, 40)], 64, 88 / (96 / FAST) + FAST],
    // A short backlog: the request waits behind a full batch there (226 × 1.25).
    ['a short backlog on three full fast servers', [at(FAST, 32), at(FAST, 32), at(FAST, 32)], 16, FAST * 1.25],
    // Room for 8 in one batch: 8 of the 24 start at once.
    ['room in a batch takes part of the backlog', [at(FAST, 24), at(FAST, 32)], 24, 16 / (64 / FAST) + FAST],
    ['never sooner than one of them could finish the request', [{ ...at(FAST, 24), finishMs: 300 }], 8, 300],
    ['servers not faster than the deadline do not count', [at(SLOW, 0), at(FAST, 32)], 8, 8 / (32 / FAST) + FAST],
    ['servers of unknown or out-of-date speed do not count', [at(undefined, 0), at(FAST, 0, false)], 8, undefined],
    ['no other server', [], 8, undefined],
  ])('%s', (_, others, backlog, expected) => {
    const drain = computeDrainMs(others, backlog, SLOW);
    if (expected === undefined) expect(drain).toBeUndefined();
    else expect(drain).toBeCloseTo(expected, 9);
  });
});

describe('shouldHold: the drain rule', () => {
  const fastThree = [at(FAST, 24), at(FAST, 24), at(FAST, 24)];
  it.each([
    ['a long backlog: every server is needed', at(SLOW, 8), fastThree, 2_000, false],
    ['a short backlog: the fast servers finish it before the slow one would', at(SLOW, 8), fastThree, 16, true],
    ['an idle slow server too, while its speed is current', at(SLOW, 0), fastThree, 16, true],
    ['an idle slow server whose speed is out of date gets the request', at(SLOW, 0, false), fastThree, 16, false],
    ['a server of unknown speed gets the request', at(undefined, 8), fastThree, 16, false],
    ['a server a little slower keeps it while the faster one is full', at(260, 8), [at(FAST, 32)], 8, false],
    ['… and passes it on when the faster one has room', at(260, 8), [at(FAST, 24)], 8, true],
    ['among equal servers, one with room keeps it', at(FAST, 16), fastThree, 8, false],
    // Here the request would wait behind a full batch (finish 282 ms) while another has room now (226 ms).
    ['a full fast server passes it to an equal one with room', at(FAST, 32), [at(FAST, 16)], 8, true],
    ['… but not when that one must first absorb a backlog', at(FAST, 32), [at(FAST, 16)], 64, false],
    ['faster servers that may be stuck are not counted on', at(SLOW, 8), [at(FAST, 32, false)], 8, false],
  ])('%s', (_, server, others, backlog, expected) => {
    expect(shouldHold(server, others, backlog)).toBe(expected);
  });
});
