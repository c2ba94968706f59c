import { type RunningServer, startServer } from '@differad/http-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpErrorMapper } from '../errors/http-client-errors.js';
import { normalizeBaseUrl } from './base-url.js';
import { createJsonClient, SerializedJson } from './json-client.js';
import { TEST_CODES, TEST_TABLE } from '../testing/trainer-codes.js';

const CODES = TEST_CODES;
const TABLE = TEST_TABLE;
const errors = createHttpErrorMapper<{ call: string }>({ codes: CODES, errors: TABLE, where: (c) => c.call });

/** Echoes `/echo` (method, headers, body), answers `/text` with non-JSON and never answers `/hang`. */
let requests = 0;
let release: () => void = () => undefined;
/** Settles at teardown; `/hang` also stops waiting when its client goes away. */
const released = new Promise<void>((resolve) => (release = resolve));
const app = new Hono()
  .use(async (_c, next) => {
    requests += 1;
    await next();
  })
  .all('/prefix/echo', async (c) =>
    c.json({
      method: c.req.method,
      type: c.req.header('content-type') ?? null,
      id: c.req.header('x-id') ?? null,
      body: await c.req.text(),
    }),
  )
  .all('/prefix/text', (c) => c.body('<html>'))
  // A reply written in many pieces: ~1 MB of JSON with multi-byte characters across the pieces.
  .all('/prefix/big', () => {
    const piece = Buffer.from(`"${'é✓'.repeat(1_000)}",`);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Buffer.from('['));
        // Split inside a character too: the reply is decoded whole, not piece by piece.
        for (let i = 0; i < 200; i++) {
          controller.enqueue(piece.subarray(0, 7));
          controller.enqueue(piece.subarray(7));
        }
        controller.enqueue(Buffer.from('0]'));
        controller.close();
      },
    });
    return new Response(stream, { headers: { 'content-type': 'application/json' } });
  })
  .all('/prefix/bom', () => new Response(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ok":true}')])))
  .all('/prefix/busy', (c) => c.json({ detail: 'overloaded' }, 503))
  .all('/prefix/hang', async (c) => {
    const signal = c.req.raw.signal;
    await Promise.race([released, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    return c.body(null, 504);
  });
let server: RunningServer;
let base = '';
beforeAll(async () => {
  server = await startServer(app, { host: '127.0.0.1', port: 0 });
  base = `${server.url}/prefix/v1/`;
});
afterAll(async () => {
  release();
  await server.close();
});

describe('createJsonClient', () => {
  it("sends JSON with the caller's headers below the base path and returns the reply", async () => {
    const client = createJsonClient({ baseUrl: base, what: 'test', errors });
    try {
      const { json } = await client.callJson({
        method: 'POST',
        path: '/echo',
        body: { a: 1 },
        headers: { 'x-id': 'r1' },
        timeoutMs: 5_000,
        context: { call: 'c' },
      });
      expect(json).toEqual({ method: 'POST', type: 'application/json', id: 'r1', body: '{"a":1}' });
      await expect(client.callJson({ method: 'GET', path: '/text', timeoutMs: 5_000, context: { call: 'c' } })).rejects.toMatchObject({
        code: 'TRAINER_BAD_RESPONSE',
        details: { field: '' },
      });
    } finally {
      await client.close();
    }
  });

  it('sends a body serialized ahead byte for byte, as JSON', async () => {
    const client = createJsonClient({ baseUrl: base, what: 'test', errors });
    try {
      const text = '{"text":"é ✓","n":[1,2.5]}';
      const { json } = await client.callJson({
        method: 'POST',
        path: '/echo',
        body: new SerializedJson(() => Buffer.from(text)),
        timeoutMs: 5_000,
        context: { call: 'c' },
      });
      expect(json).toMatchObject({ type: 'application/json', body: text });
    } finally {
      await client.close();
    }
  });

  it('refuses a body it cannot serialize before contacting the server', async () => {
    const client = createJsonClient({ baseUrl: base, what: 'test', errors });
    const before = requests;
    try {
      await expect(
        client.call({ method: 'POST', path: '/echo', body: { n: 1n }, timeoutMs: 5_000, context: { call: 'c' } }),
      ).rejects.toMatchObject({ code: 'TRAINER_REQUEST_INVALID', retryable: false });
      const unsendable = new SerializedJson(() => {
        throw new TypeError('no bytes for this body');
      });
      await expect(
        client.call({ method: 'POST', path: '/echo', body: unsendable, timeoutMs: 5_000, context: { call: 'c' } }),
      ).rejects.toMatchObject({ code: 'TRAINER_REQUEST_INVALID', retryable: false });
      // A header undici refuses to send: refused by undici itself, the call still mapped.
      await expect(
        client.call({ method: 'GET', path: '/echo', headers: { 'x-id': 'one\ntwo' }, timeoutMs: 5_000, context: { call: 'c' } }),
      ).rejects.toMatchObject({ code: 'TRAINER_REQUEST_INVALID', retryable: false, message: expect.stringContaining('x-id') as unknown });
      expect(requests).toBe(before);
    } finally {
      await client.close();
    }
  });

  it("aborts at its deadline on the injected timer, and rethrows the caller's abort reason as is", async () => {
    let fire: () => void = () => undefined;
    const client = createJsonClient({ baseUrl: base, what: 'test', errors, setTimer: (callback) => ((fire = callback), () => undefined) });
    try {
      const timedOut = client.call({ method: 'GET', path: '/hang', timeoutMs: 123, context: { call: 'c' } });
      fire();
      await expect(timedOut).rejects.toMatchObject({
        code: 'TRAINER_TIMEOUT',
        retryable: true,
        message: 'c timed out (deadline of 123 ms exceeded)',
      });
      const caller = new AbortController();
      const cancelled = client.call({ method: 'GET', path: '/hang', timeoutMs: 60_000, signal: caller.signal, context: { call: 'c' } });
      const reason = new Error('stopped by the caller');
      caller.abort(reason);
      await expect(cancelled).rejects.toBe(reason);
    } finally {
      await client.close();
    }
  });
});

describe('createJsonClient replies and failures', () => {
  it('reads a reply sent in many pieces whole, drops a UTF-8 BOM, and maps a status and a refused connection', async () => {
    const client = createJsonClient({ baseUrl: base, what: 'test', errors });
    try {
      const { json } = await client.callJson({ method: 'GET', path: '/big', timeoutMs: 5_000, context: { call: 'c' } });
      expect((json as unknown[]).length).toBe(201);
      expect((json as string[])[200 - 1]).toBe('é✓'.repeat(1_000));
      const bom = await client.callJson({ method: 'GET', path: '/bom', timeoutMs: 5_000, context: { call: 'c' } });
      expect(bom.json).toEqual({ ok: true });
      await expect(client.call({ method: 'GET', path: '/busy', timeoutMs: 5_000, context: { call: 'c' } })).rejects.toMatchObject({
        code: 'TRAINER_HTTP_ERROR',
        retryable: true,
        message: expect.stringContaining('HTTP 503') as unknown,
      });
    } finally {
      await client.close();
    }
    const closed = await startServer(new Hono(), { host: '127.0.0.1', port: 0 });
    await closed.close();
    const refused = createJsonClient({ baseUrl: closed.url, what: 'test', errors });
    try {
      await expect(refused.call({ method: 'GET', path: '/echo', timeoutMs: 5_000, context: { call: 'c' } })).rejects.toMatchObject({
        code: 'TRAINER_UNAVAILABLE',
        details: { call: 'c', cause: 'ECONNREFUSED' },
      });
    } finally {
      await refused.close();
    }
  });

  it("keeps the deadline and the caller's abort of a call that waits for a socket behind a hung one", async () => {
    const client = createJsonClient({ baseUrl: base, what: 'test', errors, connections: 1 });
    try {
      const hung = client.call({ method: 'GET', path: '/hang', timeoutMs: 60_000, context: { call: 'first' } });
      hung.catch(() => undefined);
      const started = Date.now();
      await expect(client.call({ method: 'GET', path: '/echo', timeoutMs: 200, context: { call: 'queued' } })).rejects.toMatchObject({
        code: 'TRAINER_TIMEOUT',
        message: 'queued timed out (deadline of 200 ms exceeded)',
      });
      const caller = new AbortController();
      const cancelled = client.call({
        method: 'GET',
        path: '/echo',
        timeoutMs: 60_000,
        signal: caller.signal,
        context: { call: 'queued' },
      });
      const reason = new Error('stopped by the caller');
      setTimeout(() => caller.abort(reason), 50);
      await expect(cancelled).rejects.toBe(reason);
      // Neither waited for the hung call (60 s) to give its socket back.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await client.close();
    }
  });
});

describe('normalizeBaseUrl', () => {
  it('drops trailing slashes and a final /v1, and refuses other schemes naming what the URL is', () => {
    expect(normalizeBaseUrl('http://h:8200/v1/', 'trainer')).toBe('http://h:8200');
    expect(normalizeBaseUrl('https://h/proxy/', 'server')).toBe('https://h/proxy');
    expect(() => normalizeBaseUrl('ftp://h', 'trainer')).toThrow('trainer URL must be http(s): ftp://h');
  });
});
