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
  opts: { limit?: number; answered?: number; idleSince?: number } = {},
): FleetServer {
  const limit = opts.limit ?? 32;
  const s = new FleetServer({ url: `http://s${index}` } as ServerConnection, index, { ...DEFAULT_CONCURRENCY_LIMIT, initial: limit });
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

  it('leaves the request waiting when only the slow server has room', () => {
    expect(pick([server(0, 225, 32), server(1, 225, 32), server(2, 675, 8)], 8)).toBeUndefined();
  });
});
