import { describe, expect, it } from 'vitest';
import type { ServerConnection } from '../http/server-connection.js';
import { DEFAULT_CONCURRENCY_LIMIT } from './concurrency-limit.js';
import { FleetServer, pickServer } from './fleet-server.js';

const TOKENS = 45;

/**
 * A server with `limit` sequences, `inFlight` of them busy, that answered
 * `answered` requests of 45 tokens in `latencyMs` each (so its queue-free
 * speed is latencyMs ÷ 45 per token once it answered 8), idle since `idleSince`.
 */
function server(
  index: number,
  latencyMs: number | undefined,
  inFlight: number,
  opts: { limit?: number; answered?: number; idleSince?: number; window?: number } = {},
): FleetServer {
  const limit = opts.limit ?? 32;
  const s = new FleetServer({ url: `http://s${index}` } as ServerConnection, index, {
    ...DEFAULT_CONCURRENCY_LIMIT,
    initial: limit,
    baselineWindow: opts.window ?? DEFAULT_CONCURRENCY_LIMIT.baselineWindow,
  });
  if (latencyMs !== undefined) {
    // outstanding 0: a lightly used server's answers do not move its limit.
    for (let k = 0; k < (opts.answered ?? 8); k++) s.recordSuccess({ work: 8, latencyMs, tokens: TOKENS, outstanding: 0, now: k });
  }
  s.inFlight = inFlight;
  s.idleSince = opts.idleSince ?? 0;
  return s;
}

const pick = (servers: FleetServer[], backlog: number, now = 0) => pickServer(servers, 8, new Set(), now, 1_000, 0, backlog)?.index;

describe('pickServer: the drain rule', () => {
  // Three fast servers (225 ms a request) and one 3× slower, all with room for one more request of 8.
  const fleet = () => [server(0, 225, 24), server(1, 225, 24), server(2, 225, 24), server(3, 675, 8)];

  it('gives the least loaded server the request while the backlog is long', () => {
    expect(pick(fleet(), 2_000)).toBe(3);
  });

  it('passes a busy, clearly slower server over when the faster ones would finish a short backlog sooner', () => {
    // 3 × 32 sequences per 225 ms: 16 sequences start within ~40 ms there and end by ~265 ms, not 675.
    expect(pick(fleet(), 16)).toBe(0);
  });

  it("counts one more request time for a busy slower server when the request would wait past the server's batch", () => {
    // 3 × 32 sequences per 225 ms drain a backlog of 300 in ~700 ms, then 225 more: ~930 ms.
    const slow = () => server(3, 675, 32, { limit: 48 });
    const fleetWith = (s: FleetServer) => [server(0, 225, 24), server(1, 225, 24), server(2, 225, 24), s];
    // Room for 8 more under its limit, and 675 ms < 930: the slow server takes it.
    expect(pick(fleetWith(slow()), 300)).toBe(3);
    // A scrape saw its batch full at 32 running: the request would wait for a slot, ~1,350 ms.
    const full = slow();
    full.batch = 32;
    expect(pick(fleetWith(full), 300)).toBe(0);
  });

  it('passes an idle, clearly slower server over at the end of a batch, but not for long', () => {
    const servers = [server(0, 225, 24), server(1, 675, 0, { idleSince: 0 })];
    expect(pick(servers, 8, 100)).toBe(0);
    // Idle for more than 10 of its request times: it gets work, so its speed is measured again.
    expect(pick(servers, 8, 10 * 675 + 1)).toBe(1);
  });

  it('never passes over a server only a little slower, nor one that answered too few requests to know its speed', () => {
    expect(pick([server(0, 225, 24), server(1, 300, 8)], 8)).toBe(1);
    expect(pick([server(0, 225, 24), server(1, 675, 8, { answered: 3 })], 8)).toBe(1);
    expect(pick([server(0, 225, 24), server(1, undefined, 8)], 8)).toBe(1);
    // Nor for servers whose speed it does not know.
    expect(pick([server(0, 225, 24, { answered: 3 }), server(1, 675, 8)], 8)).toBe(1);
  });

  it('trusts a speed after a full baseline window when the window is shorter than 8 answers', () => {
    const s = server(1, 675, 8, { answered: 4, window: 4 });
    expect(s.speed).toBe(15);
    expect(pick([server(0, 225, 24, { window: 4 }), s], 16)).toBe(0);
  });

  it('leaves the request waiting when only the slow server has room', () => {
    expect(pick([server(0, 225, 32), server(1, 225, 32), server(2, 675, 8)], 8)).toBeUndefined();
  });
});

describe('FleetServer: the batch a scrape shows', () => {
  it('is the running count of a scrape that saw requests waiting, and a scrape with none waiting leaves it', () => {
    const s = server(0, 225, 0);
    expect(s.batch).toBeUndefined();
    s.recordGauges({ running: 12, waiting: 0 }, 12, 0);
    expect(s.batch).toBeUndefined();
    s.recordGauges({ running: 32, waiting: 5 }, 37, 1);
    expect(s.batch).toBe(32);
    s.recordGauges({ running: 7, waiting: 0 }, 7, 2);
    expect(s.batch).toBe(32);
  });
});
