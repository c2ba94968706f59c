import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpErrorMapper } from '../errors/http-client-errors.js';
import { normalizeBaseUrl } from './base-url.js';
import { createJsonClient } from './json-client.js';

const CODES = {
  TIMEOUT: 'TRAINER_TIMEOUT',
  UNAVAILABLE: 'TRAINER_UNAVAILABLE',
  BAD_RESPONSE: 'TRAINER_BAD_RESPONSE',
  HTTP_ERROR: 'TRAINER_HTTP_ERROR',
  REQUEST_INVALID: 'TRAINER_REQUEST_INVALID',
} as const;
const TABLE = {
  TRAINER_TIMEOUT: { status: null, retryable: true, summary: 'timed out' },
  TRAINER_UNAVAILABLE: { status: null, retryable: true, summary: 'connection failed' },
} as const;
const errors = createHttpErrorMapper<{ call: string }>({ codes: CODES, errors: TABLE, where: (c) => c.call });

/** Echoes `/echo` (method, headers, body), answers `/text` with non-JSON and never answers `/hang`. */
let requests = 0;
const server = createServer((req, res) => {
  requests += 1;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/prefix/echo')
      res.end(
        JSON.stringify({
          method: req.method,
          type: req.headers['content-type'] ?? null,
          id: req.headers['x-id'] ?? null,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    else if (req.url === '/prefix/text') res.end('<html>');
  });
});
let base = '';
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix/v1/`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
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

  it('refuses a body it cannot serialize before contacting the server', async () => {
    const client = createJsonClient({ baseUrl: base, what: 'test', errors });
    const before = requests;
    try {
      await expect(
        client.call({ method: 'POST', path: '/echo', body: { n: 1n }, timeoutMs: 5_000, context: { call: 'c' } }),
      ).rejects.toMatchObject({ code: 'TRAINER_REQUEST_INVALID', retryable: false });
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

describe('normalizeBaseUrl', () => {
  it('drops trailing slashes and a final /v1, and refuses other schemes naming what the URL is', () => {
    expect(normalizeBaseUrl('http://h:8200/v1/', 'trainer')).toBe('http://h:8200');
    expect(normalizeBaseUrl('https://h/proxy/', 'server')).toBe('https://h/proxy');
    expect(() => normalizeBaseUrl('ftp://h', 'trainer')).toThrow('trainer URL must be http(s): ftp://h');
  });
});
