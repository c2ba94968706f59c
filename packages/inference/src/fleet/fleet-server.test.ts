import { describe, expect, it } from 'vitest';
import type { ServerConnection } from '../http/server-connection.js';
import { DEFAULT_CONCURRENCY_LIMIT } from './concurrency-limit.js';
import { FleetServer, pickServer } from './fleet-server.js';

const NOW = 10_000;

/**
 * A server with a limit of 32 sequences, `inFlight` of them busy (requests
 * of 8 sent `ago` ms before {@link NOW}), and a service time (ms per request
 * that does not queue) learned from a success then; undefined: never succeeded.
 */
function server(index: number, serviceMs: number | undefined, inFlight: number, ago = 100): FleetServer {
  const s = new FleetServer({ url: `http://s${index}` } as ServerConnection, index, { ...DEFAULT_CONCURRENCY_LIMIT, initial: 32 });
  s.serviceEwma = serviceMs;
  s.latencyEwma = serviceMs;
  s.lastSuccessAt = serviceMs === undefined ? undefined : NOW - ago;
  for (let k = 0; k < inFlight; k += 8) s.reserve(8, NOW - ago);
  return s;
}

const pick = (servers: FleetServer[], backlog: number) => pickServer(servers, 8, new Set(), NOW, 1_000, 0, backlog)?.index;

// Three fast servers (226 ms a request) and one 3× slower, all with room for one more request of 8.
const mixed = () => [server(0, 226, 24), server(1, 226, 24), server(2, 226, 24), server(3, 678, 8)];

describe('pickServer', () => {
  it.each([
    ['a long backlog: the least loaded server, slow or not', mixed(), 2_000, 3],
    ['a short backlog: a busy slow server is passed over for the fast ones', mixed(), 16, 0],
    ['an idle slow server is passed over too', [server(0, 226, 24), server(1, 678, 0)], 8, 0],
    ['… unless it has not succeeded for 10 service times: it is tried again', [server(0, 226, 24), server(1, 678, 0, 7_000)], 8, 1],
    ['a server of unknown speed gets work', [server(0, 226, 24), server(1, undefined, 8)], 8, 1],
    ['a server a little slower gets work while the faster one is full', [server(0, 226, 32), server(1, 300, 8)], 8, 1],
    ['a full server passes a request on to an equal one with room', [server(0, 226, 24), server(1, 226, 32)], 8, 0],
    // Its batch was sent 200 ms ago: room in 26 ms, sooner than the slow server's 678 ms.
    [
      'a fast server about to finish its batch takes it rather than an idle slow one',
      [server(0, 226, 32, 200), server(1, 678, 0)],
      8,
      undefined,
    ],
    ['… and the slow one gets it when the fast batch has just started', [server(0, 226, 32, 1), server(1, 678, 0)], 64, 1],
    ['a request waits when only the slow server has room', [server(0, 226, 32), server(1, 226, 32), server(2, 678, 8)], 8, undefined],
    // The fast servers finished nothing for 3 service times: they may hang, so the slow one is used.
    ['… but not for fast servers that may be stuck', [server(0, 226, 32, 1_000), server(1, 226, 32, 1_000), server(2, 678, 8)], 8, 2],
    ['with equal servers, the least loaded', [server(0, 226, 24), server(1, 226, 8), server(2, 226, 16)], 8, 1],
  ])('%s', (_, servers, backlog, expected) => {
    expect(pick(servers, backlog)).toBe(expected);
  });

  it('skips ejected servers and falls back to excluded ones when nothing else is live', () => {
    const [a, b] = [server(0, 226, 0), server(1, 226, 0)];
    b.ejected = true;
    expect(pickServer([a, b], 8, new Set([a]), NOW, 1_000, 0)).toBe(a);
  });
});

describe('FleetServer speed', () => {
  const sample = (latencyMs: number, outstanding: number, now = NOW) => ({ work: 8, latencyMs, tokens: 45, outstanding, now });

  it('learns the service time from requests sent within the batch, not from those that queued', () => {
    const s = server(0, undefined, 0);
    s.recordGauges({ running: 32, waiting: 8 }, 40, NOW);
    expect(s.batch).toBe(32);
    s.recordSuccess(sample(226, 32));
    s.recordSuccess(sample(400, 40)); // waited behind a full batch
    expect(s.stats(NOW, 1_000).serviceMs).toBe(226);
    expect(s.stats(NOW, 1_000).latencyEwmaMs).toBeGreaterThan(226);
  });

  it('takes a first estimate from a queued request, scaled by batch ÷ outstanding', () => {
    const s = server(0, undefined, 0);
    s.recordGauges({ running: 32, waiting: 32 }, 64, NOW);
    s.recordSuccess(sample(452, 64));
    expect(s.serviceEwma).toBe(226);
  });

  it('uses the limit as the batch until a scrape shows a queue', () => {
    const s = server(0, undefined, 0);
    s.recordGauges({ running: 16, waiting: 0 }, 16, NOW);
    expect(s.batch).toBe(32);
  });

  it.each([
    ['idle, succeeded recently', 0, 1_000, true],
    ['idle for more than 10 service times', 0, 2_261, false],
    ['busy, finished something within 3 service times', 8, 600, true],
    ['busy, nothing finished for 3 service times', 8, 700, false],
  ])('its speed is current when %s: %s', (_, inFlight, ago, current) => {
    expect(server(0, 226, inFlight, ago).outlook(NOW, 1_000, 8).current).toBe(current);
  });

  it('expects a request to finish after the wait for room behind its in-flight requests', () => {
    const s = server(0, 226, 32, 200);
    expect(s.outlook(NOW, 1_000, 8).finishMs).toBe(226 + 26);
    const [first] = [s.reserve(8, NOW)];
    s.release(first);
    s.release(first); // released twice: counted once
    expect(s.stats(NOW, 1_000).inFlight).toBe(32);
  });

  it('forgets its speed and batch when restored after an ejection, so it gets work again', () => {
    const s = server(0, 678, 0);
    s.recordGauges({ running: 32, waiting: 8 }, 40, NOW);
    s.limiter.onFailure(NOW, NOW);
    s.restore();
    expect(s.outlook(NOW, 1_000, 8)).toEqual({ serviceMs: undefined, finishMs: undefined, batch: 32, load: 0, current: false });
    expect(pickServer([server(1, 226, 24), s], 8, new Set(), NOW, 1_000, 0, 8)).toBe(s);
  });
});
