import { describe, expect, it } from 'vitest';
import type { ServerConnection } from '../http/server-connection.js';
import { DEFAULT_CONCURRENCY_LIMIT } from './concurrency-limit.js';
import { FleetServer, pickServer } from './fleet-server.js';

/** A server with `limit` sequences, `inFlight` of them busy, and a latency EWMA (ms per request). */
function server(index: number, latencyMs: number | undefined, inFlight: number, limit = 32): FleetServer {
  const s = new FleetServer({ url: `http://s${index}` } as ServerConnection, index, { ...DEFAULT_CONCURRENCY_LIMIT, initial: limit });
  s.latencyEwma = latencyMs;
  s.inFlight = inFlight;
  return s;
}

const pick = (servers: FleetServer[], backlog: number) => pickServer(servers, 8, new Set(), 0, 1_000, 0, backlog)?.index;

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

  it('never passes over a server with nothing in flight, nor one only a little slower, nor one of unknown speed', () => {
    expect(pick([server(0, 225, 24), server(1, 675, 0)], 8)).toBe(1);
    expect(pick([server(0, 225, 24), server(1, 300, 8)], 8)).toBe(1);
    expect(pick([server(0, 225, 24), server(1, undefined, 8)], 8)).toBe(1);
  });

  it('leaves the request waiting when only the slow server has room', () => {
    expect(pick([server(0, 225, 32), server(1, 225, 32), server(2, 675, 8)], 8)).toBeUndefined();
  });
});
