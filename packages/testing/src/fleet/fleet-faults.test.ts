import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDifferadError } from '@differad/core';
import { type Clock, type CompletionRequest, createFleet, type FleetEvent } from '@differad/inference';
import { describe, expect, it } from 'vitest';
import { startFakeFleet } from '../fake-vllm/fake-fleet.js';
import { FakeVllmServer } from '../fake-vllm/fake-vllm-server.js';
import { FAST, TEST_IMAGE, useFleetScope } from './fleet-test-kit.js';

const request = (seed = 1): CompletionRequest => ({
  referenceImage: TEST_IMAGE,
  targetImage: TEST_IMAGE,
  prompt: 'Box the anomaly.',
  n: 2,
  seed,
  sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 32 },
});

const scope = useFleetScope();

/** A fleet over the scope's fakes: no scraping, retries at once; `over` sets the rest. */
const fleetOverFakes = (over: Partial<Parameters<typeof createFleet>[0]> = {}) =>
  createFleet({ servers: [...scope.fakes!.urls], model: 'm', metricsIntervalMs: 0, backoffBaseMs: 1, ...over });

/** Resolves on the first fleet event matching `predicate`. */
function eventWaiter() {
  const listeners = new Set<(e: FleetEvent) => void>();
  const events: FleetEvent[] = [];
  return {
    events,
    onEvent: (e: FleetEvent) => {
      events.push(e);
      for (const l of [...listeners]) l(e);
    },
    next: (predicate: (e: FleetEvent) => boolean) =>
      new Promise<FleetEvent>((resolve) => {
        const l = (e: FleetEvent) => {
          if (!predicate(e)) return;
          listeners.delete(l);
          resolve(e);
        };
        listeners.add(l);
      }),
  };
}

describe('failures', () => {
  it('retries a 500 on another server, ejects the failing one, and probes it back in', async () => {
    scope.fakes = await startFakeFleet([{ ...FAST, faults: { errorRate: 1, unhealthy: true } }, FAST]);
    const [bad, good] = scope.fakes.servers;
    const events = eventWaiter();
    scope.fleet = fleetOverFakes({ ejectAfterFailures: 2, probeBaseMs: 20, probeMaxMs: 80, onEvent: events.onEvent });
    const ejected = events.next((e) => e.type === 'ejected' && e.server === bad!.url);
    const results = [];
    // Sequential requests alternate first choices on ties, so the bad server is tried until ejected.
    for (let k = 0; k < 20 && !scope.fleet.stats().servers[0]!.ejected; k++) results.push(await scope.fleet.complete(request(k)));
    await ejected;
    expect(results.every((r) => r.server === good!.url)).toBe(true);
    expect(results.some((r) => r.attempts === 2)).toBe(true);
    expect(events.events.some((e) => e.type === 'retry' && e.error.code === 'INFERENCE_HTTP_ERROR')).toBe(true);
    expect(scope.fleet.stats().servers[0]).toMatchObject({ ejected: true, failures: 2 });

    const restored = events.next((e) => e.type === 'restored' && e.server === bad!.url);
    bad!.setFaults({ errorRate: 0, unhealthy: false });
    await restored;
    const again = await Promise.all([scope.fleet.complete(request(100)), scope.fleet.complete(request(101))]);
    expect(new Set(again.map((r) => r.server))).toEqual(new Set([bad!.url, good!.url]));
    expect(scope.fleet.stats().servers[0]).toMatchObject({ ejected: false, consecutiveFailures: 0, completed: 1 });
  });

  it('keeps a healthy ejected server out while the readmit check refuses it, a throwing check included, then lets it back in', async () => {
    scope.fakes = await startFakeFleet([{ ...FAST, faults: { errorRate: 1 } }, FAST]);
    const [bad, good] = scope.fakes.servers;
    const events = eventWaiter();
    const checked: string[] = [];
    let verdict: 'refuse' | 'throw' | 'admit' = 'refuse';
    scope.fleet = fleetOverFakes({
      ejectAfterFailures: 1,
      probeBaseMs: 20,
      probeMaxMs: 40,
      onEvent: events.onEvent,
      readmit: async (server) => {
        checked.push(server);
        if (verdict === 'throw') throw new Error('weight_info timed out');
        return verdict === 'refuse' ? 'it reports weight version "default"' : null;
      },
    });
    const ejected = events.next((e) => e.type === 'ejected' && e.server === bad!.url);
    for (let k = 0; k < 10 && !scope.fleet.stats().servers[0]!.ejected; k++) await scope.fleet.complete(request(k));
    await ejected;
    // /health answers 200 from here on: only the check keeps it out.
    bad!.setFaults({ errorRate: 0 });
    expect(await events.next((e) => e.type === 'readmit-refused')).toEqual({
      type: 'readmit-refused',
      server: bad!.url,
      reason: 'it reports weight version "default"',
    });
    expect(scope.fleet.stats().servers[0]!.ejected).toBe(true);
    const during = await Promise.all([0, 1, 2, 3].map((k) => scope.fleet!.complete(request(200 + k))));
    expect(during.every((r) => r.server === good!.url)).toBe(true);
    verdict = 'throw';
    const failed = await events.next((e) => e.type === 'readmit-refused' && e.reason.startsWith('readmit check failed'));
    expect(failed).toMatchObject({ server: bad!.url, reason: 'readmit check failed: weight_info timed out' });
    expect(scope.fleet.stats().servers[0]!.ejected).toBe(true);
    verdict = 'admit';
    await events.next((e) => e.type === 'restored' && e.server === bad!.url);
    expect(new Set(checked)).toEqual(new Set([bad!.url]));
    const after = await Promise.all([scope.fleet.complete(request(300)), scope.fleet.complete(request(301))]);
    expect(new Set(after.map((r) => r.server))).toEqual(new Set([bad!.url, good!.url]));
  });

  it("refuses a rollout's reply from a server that lost its synced weights (restarted: no label any more), ejects it and asks another", async () => {
    scope.fakes = await startFakeFleet([FAST, FAST]);
    const [a, b] = scope.fakes.servers;
    const label = (url: string, version: string) =>
      fetch(`${url}/update_weight_version`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ new_version: version }),
      }).then((r) => expect(r.status).toBe(200));
    await Promise.all([label(a!.url, '3'), label(b!.url, '3')]);
    const events = eventWaiter();
    scope.fleet = fleetOverFakes({ probeBaseMs: 60_000, probeMaxMs: 60_000, onEvent: events.onEvent });
    const rollout = (seed: number) => scope.fleet!.complete({ ...request(seed), syncedWeights: true });
    // Both serve version 3: the fleet has seen each report its label.
    const first = await Promise.all([rollout(1), rollout(2)]);
    expect(new Set(first.map((r) => r.server))).toEqual(new Set([a!.url, b!.url]));
    expect(first.map((r) => r.weightVersion)).toEqual([3, 3]);

    // `a` restarts on its port between two requests, no request failing: a fresh engine, unlabelled.
    const port = a!.port;
    a!.kill();
    const restarted = await FakeVllmServer.start({ ...FAST, port });
    try {
      const ejected = events.next((e) => e.type === 'ejected' && e.server === a!.url);
      const after = await Promise.all([rollout(3), rollout(4), rollout(5)]);
      await ejected;
      expect(after.every((r) => r.server === b!.url && r.weightVersion === 3)).toBe(true);
      // It answered (the requests sent before its first reply came back), and the fleet refused each reply; a request that met the killed process's socket failed there instead.
      const refused = events.events.filter(
        (e) => e.type === 'retry' && e.server === a!.url && e.error.message.includes('it reported weight version 3 before and none now'),
      );
      expect(restarted.stats().completed).toBeGreaterThanOrEqual(1);
      expect(refused).toHaveLength(restarted.stats().completed);
      expect(refused[0]).toMatchObject({ error: { code: 'INFERENCE_UNAVAILABLE' } });
      expect(scope.fleet.stats().servers[0]!.ejected).toBe(true);
      expect(events.events.find((e) => e.type === 'weights-lost')).toEqual({
        type: 'weights-lost',
        server: a!.url,
        reason: 'it reported weight version 3 before and none now',
      });
    } finally {
      await restarted.close();
    }
    // An older label is not the fleet's to judge (the staleness rule is): served.
    await label(b!.url, '2');
    expect(await rollout(6)).toMatchObject({ server: b!.url, weightVersion: 2 });
    // Unless the request says which version the sync gave (on-policy, where nothing else would see it): refused, ejected.
    const older = await scope.fleet.complete({ ...request(8), syncedWeights: true, minWeightVersion: 3 }).catch((e: unknown) => e);
    expect(isDifferadError(older, 'INFERENCE_UNAVAILABLE')).toBe(true);
    expect((older as Error).message).toContain(`${b!.url}: request req-`);
    // Every server is out now, each named with why.
    expect((older as Error).message).toContain(
      `no healthy server: all 2 are ejected (${a!.url}: it reported weight version 3 before and none now (restarted since its last sync?); ${b!.url}: it reports weight version 2, older than the 3 it was synced to (restarted since its last sync?))`,
    );
    expect((older as Error).message).toContain(
      'it reports weight version 2, older than the 3 it was synced to: restarted since its last sync?',
    );
    // One event per refused reply: `a` refused those sent to it together.
    expect(new Set(events.events.filter((e) => e.type === 'weights-lost').map((e) => e.server))).toEqual(new Set([a!.url, b!.url]));
    expect(scope.fleet.stats().servers[1]!.ejected).toBe(true);
    // A request for no synced weights (an evaluation) is served by an unlabelled server that was labelled before.
    await scope.fleet.close();
    scope.fleet = fleetOverFakes();
    expect((await scope.fleet.complete(request(9))).weightVersion).toBe(2);
    const port2 = b!.port;
    b!.kill();
    const fresh = await FakeVllmServer.start({ ...FAST, port: port2 });
    try {
      const evaluation = await scope.fleet.complete(request(7));
      expect(evaluation).toMatchObject({ server: b!.url, weightVersion: null });
    } finally {
      await fresh.close();
    }
  });

  it('gives up on a hung server at the deadline and completes the request elsewhere', async () => {
    scope.fakes = await startFakeFleet([{ ...FAST, faults: { hangRate: 1 } }, FAST]);
    const [hung, good] = scope.fakes.servers;
    const events = eventWaiter();
    scope.fleet = fleetOverFakes({ timeoutMs: 500, onEvent: events.onEvent });
    const results = await Promise.all([scope.fleet.complete(request(1)), scope.fleet.complete(request(2))]);
    expect(results.map((r) => r.server)).toEqual([good!.url, good!.url]);
    expect(results.some((r) => r.attempts === 2)).toBe(true);
    expect(hung!.stats().hung).toBe(1);
    const retry = events.events.find((e) => e.type === 'retry');
    expect(retry).toMatchObject({ server: hung!.url, error: { code: 'INFERENCE_TIMEOUT', details: { server: hung!.url } } });
  });

  it('completes a request exactly once on another server when its server dies mid-request', async () => {
    scope.fakes = await startFakeFleet([{ model: 'm', tokensPerSecond: 2 }, FAST]);
    const [doomed, good] = scope.fakes.servers;
    scope.fleet = fleetOverFakes();
    const arrived = doomed!.next('request');
    const pending = [scope.fleet.complete(request(1)), scope.fleet.complete(request(2))];
    await arrived;
    doomed!.kill();
    const results = await Promise.all(pending);
    expect(results.map((r) => r.server)).toEqual([good!.url, good!.url]);
    expect(results.map((r) => r.attempts).sort()).toEqual([1, 2]);
    // One request arrived at the dead server; the good one saw each request once.
    expect(doomed!.stats().received).toBe(1);
    expect(good!.stats()).toMatchObject({ received: 2, completed: 2 });
    expect(scope.fleet.stats().servers.map((s) => s.completed)).toEqual([0, 2]);
  });

  it('reports a schema mismatch as INFERENCE_BAD_RESPONSE naming the field, without retrying', async () => {
    scope.fakes = await startFakeFleet([{ ...FAST, faults: { malformedRate: 1 } }]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0 });
    const error = await scope.fleet.complete(request()).catch((e: unknown) => e);
    expect(isDifferadError(error, 'INFERENCE_BAD_RESPONSE')).toBe(true);
    expect((error as Error).message).toContain('choices[0].message');
    expect(error).toMatchObject({ details: { field: 'choices[0].message', server: scope.fakes.urls[0], requestId: 'req-1' } });
    expect(scope.fakes.servers[0]!.stats().received).toBe(1);
  });

  it('reports a 200 whose body is not JSON as INFERENCE_BAD_RESPONSE quoting its start, without retrying', async () => {
    // A proxy in front of the servers answering its own page: healthy, no gauges, and HTML for the chat request.
    let chats = 0;
    const proxy = createServer((req, res) => {
      if (req.url === '/v1/chat/completions') chats += 1;
      req.resume();
      req.on('end', () => {
        if (req.url === '/v1/chat/completions') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>upstream says hello</html>');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('');
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      scope.fleet = createFleet({ servers: [url], model: 'm', metricsIntervalMs: 0 });
      await scope.fleet.start();
      const error = await scope.fleet.complete(request()).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'INFERENCE_BAD_RESPONSE',
        retryable: false,
        details: { field: '(body)', server: url, requestId: 'req-1' },
      });
      expect((error as Error).message).toContain('not JSON: <html>upstream says hello</html>');
      expect(chats).toBe(1);
    } finally {
      await scope.fleet?.close();
      scope.fleet = undefined;
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('maps a 4xx to INFERENCE_HTTP_ERROR with the status and the server message', async () => {
    scope.fakes = await startFakeFleet([FAST]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'not-served', metricsIntervalMs: 0 });
    const error = await scope.fleet.complete({ ...request(), requestId: 'pair-7' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'INFERENCE_HTTP_ERROR',
      retryable: false,
      details: { status: 404, requestId: 'pair-7', server: scope.fakes.urls[0] },
    });
    expect((error as Error).message).toContain('The model `not-served` does not exist.');
  });

  it('fails with INFERENCE_UNAVAILABLE when every server is down', async () => {
    scope.fakes = await startFakeFleet([FAST, FAST]);
    const urls = [...scope.fakes.urls];
    await scope.fakes.close();
    // Probed at start: both ejected, so the request fails at once.
    scope.fleet = createFleet({ servers: urls, model: 'm', metricsIntervalMs: 0, probeBaseMs: 60_000 });
    await scope.fleet.start();
    expect(scope.fleet.stats().servers.every((s) => s.ejected)).toBe(true);
    await expect(scope.fleet.complete(request())).rejects.toMatchObject({
      code: 'INFERENCE_UNAVAILABLE',
      message: expect.stringContaining('no healthy server'),
    });
    await scope.fleet.close();
    // Not probed: every attempt is refused, then retries are exhausted.
    scope.fleet = createFleet({ servers: urls, model: 'm', metricsIntervalMs: 0, backoffBaseMs: 1, maxAttempts: 3, ejectAfterFailures: 5 });
    const error = await scope.fleet.complete(request()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INFERENCE_UNAVAILABLE', retryable: true, details: { requestId: 'req-1' } });
    expect((error as Error).message).toContain('all 3 attempts failed');
    expect(isDifferadError((error as Error).cause, 'INFERENCE_UNAVAILABLE')).toBe(true);
  });
});

/** A clock that moves only when told. */
function manualClock() {
  let now = 0;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.add(t);
      return () => void timers.delete(t);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of [...timers].filter((x) => x.at <= now)) {
      timers.delete(t);
      t.fn();
    }
  };
  return { clock, advance };
}

describe('injected clock', () => {
  it('runs every deadline on it: a hung request fails exactly when the clock passes its deadline', async () => {
    scope.fakes = await startFakeFleet([{ ...FAST, faults: { hangRate: 1 } }]);
    const { clock, advance } = manualClock();
    scope.fleet = createFleet({
      servers: [...scope.fakes.urls],
      model: 'm',
      metricsIntervalMs: 0,
      timeoutMs: 1_000,
      maxAttempts: 1,
      clock,
    });
    const arrived = scope.fakes.servers[0]!.next('request');
    let settled = false;
    const pending = scope.fleet.complete(request()).finally(() => (settled = true));
    await arrived;
    advance(999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    advance(1);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INFERENCE_UNAVAILABLE', cause: { code: 'INFERENCE_TIMEOUT' } });
    expect((error as Error).message).toContain('deadline of 1000 ms exceeded');
  });
});
