import { type CompletionRequest, createFleet } from '@differad/inference';
import { describe, expect, it } from 'vitest';
import { startFakeFleet } from '../fake-vllm/fake-fleet.js';
import { createPngDataUrl } from '../images/png-data-url.js';
import { useFleetScope } from './fleet-test-kit.js';

const reference = createPngDataUrl({ width: 16, height: 16, color: [200, 200, 200] });
const target = createPngDataUrl({ width: 16, height: 16, color: [200, 200, 200], patch: [4, 4, 8, 8] });
const request = (over: Partial<CompletionRequest> = {}): CompletionRequest => ({
  referenceImage: reference,
  targetImage: target,
  system: 'You compare images.',
  prompt: 'Box the anomaly.',
  n: 4,
  seed: 5,
  sampling: { temperature: 0.7, topP: 0.95, topK: 20, maxTokens: 40 },
  ...over,
});

const scope = useFleetScope();

describe('the request a server receives', () => {
  it('carries every sampling parameter explicitly and the images reference first, then target', async () => {
    scope.fakes = await startFakeFleet([{ model: 'm', requireExplicitSampling: true, tokensPerSecond: 50_000 }]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0 });
    const received = scope.fakes.servers[0]!.next('request');
    const result = await scope.fleet.complete(request({ seed: 99 }));
    const { body } = await received;
    expect(body).toMatchObject({
      model: 'm',
      n: 4,
      temperature: 0.7,
      top_p: 0.95,
      top_k: 20,
      max_tokens: 40,
      seed: 99,
      logprobs: true,
      return_token_ids: true,
      stream: false,
    });
    expect(body.messages).toEqual([
      { role: 'system', content: 'You compare images.' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: reference } },
          { type: 'image_url', image_url: { url: target } },
          { type: 'text', text: 'Box the anomaly.' },
        ],
      },
    ]);
    expect(result.completions).toHaveLength(4);
    expect(result.attempts).toBe(1);
    expect(result.server).toBe(scope.fakes.urls[0]);
  });

  it('keeps text, token ids, log-probs, finish reason, server and latency per completion', async () => {
    scope.fakes = await startFakeFleet([{ model: 'm', policy: 'constant', tokensPerSecond: 50_000 }]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0 });
    const result = await scope.fleet.complete(request({ n: 2 }));
    for (const c of result.completions) {
      expect(c.text).toBe('<think>The target matches the reference.</think><answer>(0,0),(0,0)</answer>');
      expect(c.tokenIds!.length).toBe(c.logprobs!.length);
      expect(c.finishReason).toBe('stop');
      expect(c.server).toBe(scope.fakes.urls[0]);
      expect(c.latencyMs).toBeGreaterThan(0);
    }
    expect(result.promptTokenIds!.length).toBeGreaterThan(0);
    // A server nobody labelled (vLLM's "default") reports no version.
    expect(result.weightVersion).toBeNull();
  });
});

describe('routing', () => {
  it('prefers the server whose /metrics gauges show the least outstanding work', async () => {
    // Slow servers so the external load stays put while the fleet routes.
    scope.fakes = await startFakeFleet([
      { model: 'm', slots: 4, tokensPerSecond: 5 },
      { model: 'm', slots: 4, tokensPerSecond: 50_000 },
    ]);
    const [busy, idle] = scope.fakes.servers;
    // Another client keeps the first server busy: 4 sequences running, 4 waiting.
    const other = new AbortController();
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 4, max_tokens: 200 });
    const arrived = new Promise<void>((resolve) => {
      let count = 0;
      busy!.on('request', () => ++count === 2 && resolve());
    });
    const external = [1, 2].map(() =>
      fetch(`${busy!.url}/v1/chat/completions`, {
        method: 'POST',
        body,
        signal: other.signal,
        headers: { 'content-type': 'application/json' },
      }).catch(() => undefined),
    );
    await arrived;
    scope.fleet = createFleet({ servers: [busy!.url, idle!.url], model: 'm', metricsIntervalMs: 0 });
    await scope.fleet.refresh();
    expect(scope.fleet.stats().servers[0]!.serverQueue).toBe(8);
    const results = [];
    for (let k = 0; k < 3; k++) results.push(await scope.fleet.complete(request()));
    expect(results.map((r) => r.server)).toEqual([idle!.url, idle!.url, idle!.url]);
    other.abort();
    await Promise.all(external);
  });

  it('without gauges, spreads concurrent requests by its own in-flight count', async () => {
    scope.fakes = await startFakeFleet([
      { model: 'm', tokensPerSecond: 2_000 },
      { model: 'm', tokensPerSecond: 2_000 },
    ]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0 });
    const results = await Promise.all([scope.fleet.complete(request()), scope.fleet.complete(request())]);
    expect(new Set(results.map((r) => r.server))).toEqual(new Set(scope.fakes.urls));
  });

  it('queues requests beyond every server limit and runs them as capacity frees', async () => {
    scope.fakes = await startFakeFleet([{ model: 'm', slots: 4, tokensPerSecond: 5_000 }]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0, concurrency: { initial: 4, max: 4 } });
    const pending = Array.from({ length: 5 }, (_, k) => scope.fleet!.complete(request({ seed: k })));
    expect(scope.fleet.stats().queued).toBe(4);
    expect(scope.fleet.stats().servers[0]).toMatchObject({ inFlight: 4, inFlightRequests: 1 });
    const results = await Promise.all(pending);
    expect(results).toHaveLength(5);
    expect(scope.fakes.servers[0]!.stats().waiting).toBe(0);
    expect(scope.fleet.stats().servers[0]).toMatchObject({ completed: 5, inFlight: 0 });
  });

  it('serves waiting requests by priority, lower first, equal ones (and none, as 0) in arrival order', async () => {
    scope.fakes = await startFakeFleet([{ model: 'm', slots: 4, tokensPerSecond: 5_000 }]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0, concurrency: { initial: 4, max: 4 } });
    const order: (string | null)[] = [];
    const off = scope.fakes.servers[0]!.on('request', (e) => order.push(e.requestId));
    const asked: [string, number | undefined][] = [
      ['first', 9], // the server is free: it runs at once
      ['step-5-a', 5],
      ['step-1-a', 1],
      ['step-1-b', 1],
      ['eval', undefined],
      ['step-5-b', 5],
    ];
    const results = await Promise.all(
      asked.map(([requestId, priority], k) =>
        scope.fleet!.complete(request({ requestId, seed: k, ...(priority === undefined ? {} : { priority }) })),
      ),
    );
    off();
    expect(results).toHaveLength(6);
    expect(order).toEqual(['first', 'eval', 'step-1-a', 'step-1-b', 'step-5-a', 'step-5-b']);
  });

  it('rejects with the signal reason when the caller aborts a queued request', async () => {
    scope.fakes = await startFakeFleet([{ model: 'm', slots: 4, tokensPerSecond: 5_000 }]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0, concurrency: { initial: 4, max: 4 } });
    const first = scope.fleet.complete(request());
    const controller = new AbortController();
    const second = scope.fleet.complete(request({ signal: controller.signal }));
    controller.abort(new Error('caller gave up'));
    await expect(second).rejects.toThrow('caller gave up');
    await expect(first).resolves.toMatchObject({ attempts: 1 });
    expect(scope.fleet.stats().queued).toBe(0);
  });
});

describe('the drain rule', () => {
  it('holds an idle slower server at most 10 of its request times, even when no request ends meanwhile', async () => {
    // One request fills a server (limit 4 sequences, n = 4); the slow server is 10× slower per token.
    scope.fakes = await startFakeFleet([
      { model: 'm', tokensPerSecond: 20_000, prefillMsPerImage: 0 },
      { model: 'm', tokensPerSecond: 2_000, prefillMsPerImage: 0 },
    ]);
    const [fastUrl, slowUrl] = scope.fakes.urls as [string, string];
    scope.fleet = createFleet({
      servers: [fastUrl, slowUrl],
      model: 'm',
      metricsIntervalMs: 0,
      concurrency: { initial: 4, min: 1, max: 4 },
    });
    const fleet = scope.fleet;
    await fleet.start();
    // Both speeds known (the rule compares them after 8 answers).
    for (let i = 0; i < 10; i++) {
      await fleet.complete(request({ seed: i, servers: [fastUrl] }));
      await fleet.complete(request({ seed: i, servers: [slowUrl] }));
    }
    // The fast server's next request never ends (full for as long as the test runs, whatever the hold's bound
    // on a loaded machine, where the slow server's measured request times grow); the slow one has just fallen idle.
    scope.fakes.servers[0]!.setFaults({ hangRate: 1 });
    const order: string[] = [];
    const long = fleet.complete(request({ seed: 50, servers: [fastUrl] })).then(
      () => void order.push('long'),
      // Ended by the fleet's close after the test: not waited for.
      () => undefined,
    );
    await fleet.complete(request({ seed: 51, servers: [slowUrl] }));
    let timer: NodeJS.Timeout | undefined;
    const probe = await Promise.race([
      fleet.complete(request({ seed: 52 })).then((r) => {
        order.push('probe');
        return r;
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('no answer in 10 s: the probe went to the full fast server, or was held past the bound')),
          10_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    // Held first (the fast server would have finished a short request sooner), then sent to the slow one once
    // the hold's bound passed, not left waiting for the fast server's long request to end.
    expect(probe.server).toBe(slowUrl);
    expect(order).toEqual(['probe']);
    await fleet.close();
    await long;
    expect(order).toEqual(['probe']);
  }, 20_000);
});
