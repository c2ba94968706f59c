import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createPngDataUrl } from '../images/png-data-url.js';
import { createBoxLookup } from './answer-policy.js';
import type { FakeVllmOptions } from './fake-options.js';
import { FakeVllmServer } from './fake-vllm-server.js';

const reference = createPngDataUrl({ width: 8, height: 8, color: [5, 5, 5] });
const target = createPngDataUrl({ width: 8, height: 8, color: [5, 5, 5], patch: [2, 2, 4, 4] });
const chat = (over: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [
    { role: 'system', content: 'sys' },
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: reference } },
        { type: 'image_url', image_url: { url: target } },
        { type: 'text', text: 'Box the anomaly.' },
      ],
    },
  ],
  n: 2,
  temperature: 0.9,
  top_p: 1,
  top_k: -1,
  max_tokens: 64,
  seed: 3,
  logprobs: true,
  return_token_ids: true,
  ...over,
});

let server: FakeVllmServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: FakeVllmOptions = {}): Promise<FakeVllmServer> {
  server = await FakeVllmServer.start({ model: 'm', tokensPerSecond: 20_000, ...options });
  return server;
}

async function post(path: string, body: unknown, signal?: AbortSignal) {
  const res = await fetch(`${server!.url}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    signal,
  });
  return {
    status: res.status,
    headers: res.headers,
    json: (await res.json()) as Record<string, unknown> & { choices: { message: { content: string } }[] },
  };
}

describe('fake vLLM: requests', () => {
  it('binds 127.0.0.1 on a free port and answers /health and /v1/models', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.port).toBeGreaterThan(0);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${s.url}/v1/models`)).json()).toMatchObject({ data: [{ id: 'm' }] });
  });

  it('answers exactly the ground truth with the exact policy, deterministically per seed', async () => {
    await start({ policy: 'exact', lookup: createBoxLookup([{ targetImage: target, box: [10, 20, 30, 40] }]) });
    const { status, json, headers } = await post('/v1/chat/completions', chat());
    expect(status).toBe(200);
    // Unlabelled ("default", as vLLM starts), the server claims no version.
    expect(headers.get('x-weight-version')).toBeNull();
    expect(json.choices.map((c) => c.message.content)).toEqual([
      '<think>The target differs from the reference in one region.</think><answer>(10,20),(30,40)</answer>',
      '<think>The target differs from the reference in one region.</think><answer>(10,20),(30,40)</answer>',
    ]);
    expect(json.prompt_token_ids).toEqual(expect.arrayContaining([151_655]));
    const again = await post('/v1/chat/completions', chat());
    expect(again.json.choices).toEqual(json.choices);
  });

  it('cuts at max_tokens with finish_reason length and counts usage', async () => {
    await start({ policy: 'noisy' });
    const { json } = await post('/v1/chat/completions', chat({ n: 1, max_tokens: 5 }));
    expect(json).toMatchObject({ choices: [{ finish_reason: 'length' }], usage: { completion_tokens: 5 } });
    expect((json.choices[0] as unknown as { token_ids: number[] }).token_ids).toHaveLength(5);
  });

  it.each([
    ['an unknown model', chat({ model: 'other' }), 404, 'The model `other` does not exist.'],
    ['a mistyped field', chat({ max_tokens: 'many' }), 400, 'max_tokens'],
    [
      'an http image URL',
      chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }] }),
      400,
      'data:image',
    ],
    ['top_logprobs without logprobs', chat({ logprobs: false, top_logprobs: 2 }), 400, '`logprobs` must be set to true'],
    ['streaming', chat({ stream: true }), 400, 'streaming is not supported'],
  ])('rejects %s like vLLM', async (_name, body, status, message) => {
    await start();
    const res = await post('/v1/chat/completions', body);
    expect(res.status).toBe(status);
    expect(JSON.stringify(res.json)).toContain(message);
  });

  it('can insist on explicit sampling parameters', async () => {
    await start({ requireExplicitSampling: true });
    const res = await post('/v1/chat/completions', chat({ top_k: undefined }));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain('top_k');
  });
});

describe('fake vLLM: capacity, pause and weights', () => {
  it('queues requests beyond its slots and reports them in /metrics', async () => {
    const s = await start({ slots: 2, tokensPerSecond: 1 });
    const controller = new AbortController();
    const arrived = new Promise<void>((resolve) => {
      let k = 0;
      s.on('request', () => ++k === 2 && resolve());
    });
    const pending = [1, 2].map(() => post('/v1/chat/completions', chat(), controller.signal).catch(() => undefined));
    await arrived;
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toContain('vllm:num_requests_running{model_name="m"} 2.0');
    expect(metrics).toContain('vllm:num_requests_waiting{model_name="m"} 2.0');
    // A client that gives up frees its slots, running or waiting.
    const freed = new Promise<void>((resolve) => {
      let k = 0;
      s.on('done', () => ++k === 2 && resolve());
    });
    controller.abort();
    await Promise.all(pending);
    await freed;
    expect(s.stats()).toMatchObject({ aborted: 2, running: 0, waiting: 0 });
  });

  it('holds new requests while paused and reports the bumped weight version after a reload_weights', async () => {
    const s = await start();
    await post('/pause?mode=wait', {});
    const queued = s.next('request');
    const pending = post('/v1/chat/completions', chat());
    await queued;
    expect(s.stats()).toMatchObject({ paused: true, waiting: 2 });
    // The pre-0.32 disk body: no weight-transfer engine on this server, so vLLM fails it in the worker (500).
    expect((await post('/update_weights', { update_info: { path: '/tmp' } })).status).toBe(500);
    expect((await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: '/nonexistent-differad' } })).status).toBe(
      500,
    );
    const reload = await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: tmpdir() } });
    expect(reload).toMatchObject({ status: 200, json: { results: [null] } });
    expect(await post('/update_weight_version', { new_version: '5' })).toMatchObject({
      status: 200,
      json: { success: true, new_version: '5' },
    });
    await post('/resume', {});
    const { headers } = await pending;
    // The label the reload was given, not a count of loads.
    expect(headers.get('x-weight-version')).toBe('5');
    expect(s.stats()).toMatchObject({ weightVersion: 1 });
  });

  it('pause modes as vLLM 0.32.0: wait answers once running requests drained; keep freezes them, and a request that spans the reload reports both versions', async () => {
    // 64 tokens at 100 tokens/s: each request runs for about 0.6 s, long enough to pause inside it.
    const s = await start({ tokensPerSecond: 100 });
    await post('/update_weight_version', { new_version: '3' });
    const admitted = s.next('request');
    const spanning = post('/v1/chat/completions', chat());
    await admitted;
    expect(await post('/pause?mode=keep', {})).toMatchObject({ status: 200 });
    // Frozen: the request holds its slots and makes no progress, so it is still running after the reload.
    expect((await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: tmpdir() } })).status).toBe(200);
    expect((await post('/update_weight_version', { new_version: '4' })).status).toBe(200);
    expect(s.stats()).toMatchObject({ paused: true, running: 2 });
    await post('/resume', {});
    const { headers } = await spanning;
    expect(headers.get('x-weight-version')).toBe('3');
    expect(headers.get('x-weight-versions')).toBe('3,4');

    const draining = s.next('request');
    const drained = post('/v1/chat/completions', chat());
    await draining;
    let paused = false;
    const pausing = post('/pause?mode=wait', {}).then(() => (paused = true));
    // `wait` returns only after the running request finished, on the old weights.
    const { headers: after } = await drained;
    await pausing;
    expect(paused).toBe(true);
    expect(after.get('x-weight-version')).toBe('4');
    expect(after.get('x-weight-versions')).toBeNull();
    await post('/resume', {});
  });

  it('after a failed reload, a good reload makes it whole; a request in between kills the engine, as vLLM 0.32.0 does', async () => {
    await start();
    const failed = async () =>
      (await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: '/nonexistent-differad' } })).status;
    expect(await failed()).toBe(500);
    expect((await post('/collective_rpc', { method: 'reload_weights', kwargs: { weights_path: tmpdir() } })).status).toBe(200);
    expect((await post('/v1/chat/completions', chat())).status).toBe(200);
    expect(await failed()).toBe(500);
    const broken = await post('/v1/chat/completions', chat());
    expect(broken.status).toBe(500);
    expect(JSON.stringify(broken.json)).toContain('not on the expected device meta');
    expect((await fetch(`${server!.url}/health`)).status).toBe(503);
  });
});

describe('fake vLLM: server flags', () => {
  it('reports raw log-probs (before temperature) by default, as vLLM does without --logprobs-mode processed_logprobs', async () => {
    const logprobsOf = async (options: FakeVllmOptions, temperature: number) => {
      const s = await FakeVllmServer.start({ model: 'm', tokensPerSecond: 100_000, ...options });
      try {
        const res = await fetch(`${s.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(chat({ temperature })),
        });
        const json = (await res.json()) as { choices: { logprobs: { content: { logprob: number }[] } }[] };
        return json.choices[0]!.logprobs.content.map((c) => c.logprob);
      } finally {
        await s.close();
      }
    };
    const processed = await logprobsOf({ logprobsMode: 'processed_logprobs' }, 0.5);
    const raw = await logprobsOf({}, 0.5);
    expect(raw).toEqual(processed.map((l) => l * 0.5));
    expect(raw.some((l, i) => Math.abs(l - processed[i]!) > 1e-3)).toBe(true);
    expect(await logprobsOf({}, 1)).toEqual(await logprobsOf({ logprobsMode: 'processed_logprobs' }, 1));
  });

  it('has no dev-mode routes without dev mode, and reports its world size with them', async () => {
    const off = await start({ devMode: false });
    for (const path of ['/pause', '/collective_rpc', '/init_weight_transfer_engine'])
      expect(await post(path, {})).toMatchObject({ status: 404, json: { detail: 'Not Found' } });
    await off.close();
    const on = await start({ tensorParallel: 2, dataParallel: 2 });
    expect(await (await fetch(`${on.url}/get_world_size`)).json()).toEqual({ world_size: 4 });
  });
});

describe('fake vLLM: faults', () => {
  it('injects HTTP 500, garbage text, malformed bodies and an unhealthy /health, changeable at runtime', async () => {
    const s = await start({ faults: { errorRate: 1 } });
    expect((await post('/v1/chat/completions', chat())).status).toBe(500);
    s.setFaults({ errorRate: 0, garbageRate: 1 });
    const garbage = await post('/v1/chat/completions', chat());
    expect(garbage.json.choices.every((c) => !c.message.content.includes('<answer>'))).toBe(true);
    s.setFaults({ garbageRate: 0, malformedRate: 1, unhealthy: true });
    expect((await post('/v1/chat/completions', chat())).json.choices[0]).not.toHaveProperty('message');
    expect((await fetch(`${s.url}/health`)).status).toBe(503);
    expect(s.stats()).toMatchObject({ received: 3, errors: 1, completed: 2 });
  });

  it('dies mid-request by destroying the socket', async () => {
    const s = await start({ faults: { dieRate: 1 } });
    await expect(post('/v1/chat/completions', chat())).rejects.toThrow();
    expect(s.stats().died).toBe(1);
  });

  it('hangs until the client gives up, and kill() drops everything at once', async () => {
    const s = await start({ faults: { hangRate: 1 } });
    const arrived = s.next('request');
    const pending = post('/v1/chat/completions', chat()).then(
      () => 'answered',
      () => 'failed',
    );
    await arrived;
    s.kill();
    expect(await pending).toBe('failed');
    expect(s.stats().hung).toBe(1);
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
  });

  it('takes latency from prefill per image plus tokens over the decode rate, scaled by the slow factor', async () => {
    const s = await start({ tokensPerSecond: 100, prefillMsPerImage: 20, faults: { slowFactor: 2 } });
    const t0 = performance.now();
    const { json } = await post('/v1/chat/completions', chat({ n: 1, max_tokens: 5 }));
    const elapsed = performance.now() - t0;
    expect(json.usage).toMatchObject({ completion_tokens: 5 });
    // (2 images × 20 ms + 5 tokens / 100 per s) × 2 = 180 ms.
    expect(elapsed).toBeGreaterThanOrEqual(175);
    expect(elapsed).toBeLessThan(3_000);
    expect(s.stats().completed).toBe(1);
  });
});
