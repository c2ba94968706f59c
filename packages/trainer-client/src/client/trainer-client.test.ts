import { type RunningServer, startServer } from '@differad/http-server';
import { type Context, Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainerClient, normalizeTrainerUrl } from './trainer-client.js';

type Reply = (c: Context) => Response | Promise<Response>;

const HEALTH = {
  status: 'ok',
  api_version: 'v1',
  backend: 'stub',
  model: 'm',
  world_size: 1,
  run: null,
  step: null,
  weight_version: 0,
  pending: null,
};
const json =
  (status: number, body: unknown): Reply =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

let release: () => void = () => undefined;
/** Settles at teardown: a route awaiting it (or its client going away) never answers before. */
const released = new Promise<void>((resolve) => (release = resolve));
async function never(c: Context): Promise<Response> {
  const signal = c.req.raw.signal;
  await Promise.race([released, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
  return new Response(null, { status: 504 });
}

/** A stub trainer: one scripted reply per path; counts requests. */
const routes = new Map<string, Reply>();
let requests = 0;
const app = new Hono().all('*', (c) => {
  requests += 1;
  const { pathname, search } = new URL(c.req.url);
  return (routes.get(pathname + search) ?? json(404, { error: { code: 'TRAINER_NOT_FOUND', message: 'no route' } }))(c);
});
let server: RunningServer;
let url = '';

beforeAll(async () => {
  server = await startServer(app, { host: '127.0.0.1', port: 0 });
  url = server.url;
});
afterAll(async () => {
  release();
  await server.close();
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean; details: Record<string, unknown> }> {
  return promise.then(
    () => expect.unreachable('the call succeeded'),
    (e: unknown) => e as { code: string; retryable: boolean; details: Record<string, unknown> },
  );
}

describe('createTrainerClient', () => {
  it('returns validated replies and the metrics text', async () => {
    routes.set('/v1/health', json(200, HEALTH));
    routes.set('/metrics', () => new Response('differad_trainer_weight_version 0\n', { headers: { 'content-type': 'text/plain' } }));
    const client = createTrainerClient({ baseUrl: `${url}/v1/`, timeoutMs: 5_000 });
    try {
      expect(await client.health()).toEqual(HEALTH);
      expect(await client.metrics()).toBe('differad_trainer_weight_version 0\n');
    } finally {
      await client.close();
    }
  });

  it('names the field of a reply that breaks the schema, and says when it is not JSON', async () => {
    const client = createTrainerClient({ baseUrl: url, timeoutMs: 5_000 });
    try {
      routes.set('/v1/health', json(200, { ...HEALTH, world_size: 0 }));
      expect(await failure(client.health())).toMatchObject({ code: 'TRAINER_BAD_RESPONSE', details: { field: 'world_size' } });
      routes.set('/v1/health', (c) => c.body('<html>', 200));
      expect(await failure(client.health())).toMatchObject({ code: 'TRAINER_BAD_RESPONSE', details: { field: '' } });
    } finally {
      await client.close();
    }
  });

  it('maps 4xx to TRAINER_REJECTED with the error body and 5xx to a retryable TRAINER_HTTP_ERROR', async () => {
    const client = createTrainerClient({ baseUrl: url, timeoutMs: 5_000 });
    const body = { error: { code: 'TRAINER_STEP_INCOMPLETE', message: 'missing 1', details: { missing: [1] } } };
    try {
      routes.set('/v1/optim_step', json(409, body));
      expect(await failure(client.optimStep({ run: 'r', step: 0, lr: 0.01 }))).toMatchObject({
        code: 'TRAINER_REJECTED',
        retryable: false,
        details: { status: 409, error: body.error, path: '/v1/optim_step' },
      });
      routes.set('/v1/optim_step', (c) => c.body('bad gateway', 502));
      expect(await failure(client.optimStep({ run: 'r', step: 0, lr: 0.01 }))).toMatchObject({
        code: 'TRAINER_HTTP_ERROR',
        retryable: true,
        details: { status: 502, body: 'bad gateway' },
      });
    } finally {
      await client.close();
    }
  });

  it('validates a request before sending it', async () => {
    const client = createTrainerClient({ baseUrl: url, timeoutMs: 5_000 });
    const before = requests;
    try {
      const error = await failure(client.optimStep({ run: 'r', step: -1, lr: 0.01 }));
      expect(error).toMatchObject({ code: 'TRAINER_REQUEST_INVALID', details: { fields: [{ field: 'step' }] } });
      expect(requests).toBe(before);
    } finally {
      await client.close();
    }
  });

  it('sends a valid forward_backward request as given, and names the field of an invalid one without sending it', async () => {
    const loss = { clip_low: 0.2, clip_high: 0.28, beta: 0, normalization: 'token', mask_truncated: true, temperature: 1 } as const;
    const completion = { text: 'a', token_ids: [1, 2], sampling_logprobs: [-0.5, -1.25], advantage: 1, weight: 1, truncated: false };
    const group = { images: [], messages: [{ role: 'user' as const, content: 'hi' }], prompt_token_ids: null, completions: [completion] };
    const request = { run: 'r', step: 0, micro_batch: 0, micro_batches: 1, loss, groups: [group] };
    const reply = {
      ...{ run: 'r', step: 0, micro_batch: 0, duplicate: false, loss: 0.5, clip_fraction: 0, kl: null, sequences: 1, tokens: 2 },
      ...{ masked: { truncated: 0, unscorable: 0 }, prompt_tokens_match: null },
    };
    const received: unknown[] = [];
    routes.set('/v1/forward_backward', async (c) => {
      received.push(await c.req.json());
      return json(200, reply)(c);
    });
    const client = createTrainerClient({ baseUrl: url, timeoutMs: 5_000 });
    try {
      expect(await client.forwardBackward(request)).toEqual(reply);
      // A loss whose beta is inherited: the schema copies it, so the trainer still gets it.
      const inherited = Object.assign(Object.create({ beta: 0.5 }) as object, { ...loss, beta: undefined });
      delete (inherited as { beta?: number }).beta;
      await client.forwardBackward({ ...request, loss: inherited as typeof loss });
      expect(received).toEqual([request, { ...request, loss: { ...loss, beta: 0.5 } }]);

      const nan = { ...request, groups: [{ ...group, completions: [{ ...completion, sampling_logprobs: [-0.5, Number.NaN] }] }] };
      const error = await failure(client.forwardBackward(nan));
      expect(error).toMatchObject({
        code: 'TRAINER_REQUEST_INVALID',
        message:
          'POST /v1/forward_backward: invalid request: groups.0.completions.0.sampling_logprobs.1: Invalid input: expected number, received NaN',
        details: { fields: [{ field: 'groups.0.completions.0.sampling_logprobs.1' }] },
      });
      const extra = await failure(client.forwardBackward({ ...request, loss: { ...loss, epsilon: 0.2 } as typeof loss }));
      expect(extra).toMatchObject({ code: 'TRAINER_REQUEST_INVALID', details: { fields: [{ field: 'loss' }] } });
      expect(received).toHaveLength(2);
    } finally {
      await client.close();
    }
  });

  it('gives up at its deadline with TRAINER_TIMEOUT (a per-call deadline overrides the default)', async () => {
    let arrived!: () => void;
    const hung = new Promise<void>((resolve) => (arrived = resolve));
    routes.set('/v1/health', (c) => {
      arrived();
      return never(c);
    });
    const client = createTrainerClient({ baseUrl: url, timeoutMs: 60_000 });
    try {
      const call = failure(client.health({ timeoutMs: 100 }));
      await hung;
      expect(await call).toMatchObject({ code: 'TRAINER_TIMEOUT', retryable: true });
    } finally {
      await client.close();
    }
  });

  it('reports a refused connection as TRAINER_UNAVAILABLE', async () => {
    const closed = await startServer(new Hono(), { host: '127.0.0.1', port: 0 });
    const port = closed.port;
    await closed.close();
    const client = createTrainerClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5_000 });
    try {
      expect(await failure(client.health())).toMatchObject({
        code: 'TRAINER_UNAVAILABLE',
        retryable: true,
        details: { cause: 'ECONNREFUSED' },
      });
    } finally {
      await client.close();
    }
  });

  it('normalizes base URLs and refuses other schemes', () => {
    expect(normalizeTrainerUrl('http://h:8200/v1/')).toBe('http://h:8200');
    expect(normalizeTrainerUrl('http://h:8200/trainer/')).toBe('http://h:8200/trainer');
    expect(() => normalizeTrainerUrl('ftp://h')).toThrow(TypeError);
  });
});
