import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { DifferadError, isDifferadError } from '@differad/core';
import { postConcurrently, uploadRawBody } from '@differad/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DRAIN_LIMITS, type DrainLimits, HTTP_BODY_TOO_LARGE, readRequestBody, readRequestBytes, sendAndDrain } from './request-body.js';

const LIMIT = 1024 * 1024;
const MiB = 1024 * 1024;

/** A stand-in request: a stream with headers, fed by the test. */
function toRequest(headers: Record<string, string> = {}): PassThrough & IncomingMessage {
  return Object.assign(new PassThrough(), { headers }) as unknown as PassThrough & IncomingMessage;
}

describe('readRequestBytes', () => {
  it('reads a body within the limit', async () => {
    const req = toRequest();
    const read = readRequestBody(req, { maxBytes: 10 });
    req.end('{"a":"é"}');
    expect(await read).toBe('{"a":"é"}');
  });

  it('rejects a declared Content-Length over the limit without reading a byte', async () => {
    const req = toRequest({ 'content-length': String(2 * LIMIT) });
    req.write('x');
    const declared: (number | null)[] = [];
    const tooLarge = (bytes: number | null) => (declared.push(bytes), new DifferadError('X_TOO_LARGE', 'too large'));
    await expect(readRequestBytes(req, { maxBytes: LIMIT, tooLarge })).rejects.toMatchObject({ code: 'X_TOO_LARGE' });
    expect(declared).toEqual([2 * LIMIT]);
    expect(req.readableLength).toBe(1);
  });

  it('stops buffering a body that grows past the limit, pauses it, and does not destroy it', async () => {
    const req = toRequest();
    const read = readRequestBytes(req, { maxBytes: 5 });
    req.write('abc');
    req.write('def');
    const error = await read.catch((e: unknown) => e);
    expect(isDifferadError(error, HTTP_BODY_TOO_LARGE)).toBe(true);
    expect(error).toMatchObject({ message: 'the body is larger than 5 bytes', details: { limit: 5 } });
    expect(req.isPaused()).toBe(true);
    expect(req.destroyed).toBe(false);
  });

  it('rejects when the client goes away before the end of the body', async () => {
    const req = toRequest();
    const read = readRequestBytes(req, { maxBytes: 100 });
    req.write('abc');
    req.destroy();
    await expect(read).rejects.toThrow(/closed the connection/);
  });
});

describe('sendAndDrain on a server', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    server?.close();
    if (server) await once(server, 'close');
    server = undefined;
  });

  /** A server that echoes the size of bodies up to LIMIT and answers 413 `{error: {code}}` past it. */
  async function startServer(limits: DrainLimits = DEFAULT_DRAIN_LIMITS): Promise<string> {
    server = createServer((req, res) => {
      readRequestBody(req, { maxBytes: LIMIT }).then(
        (text) => sendAndDrain(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ bytes: Buffer.byteLength(text) }), limits),
        (error: DifferadError) => sendAndDrain(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ error: { code: error.code } }), limits),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('answers a request that arrived whole with a plain reply on a connection that stays open', async () => {
    const url = await startServer();
    const first = await fetch(url, { method: 'POST', body: 'x'.repeat(1000) });
    expect(first.headers.get('connection')).toBe('keep-alive');
    expect(await first.json()).toEqual({ bytes: 1000 });
  });

  it.each([
    ['a Content-Length over the limit', false],
    ['a chunked body that grows past the limit', true],
  ])('answers 20 concurrent clients sending %s with a readable 413', async (_, streamed) => {
    const url = await startServer();
    expect(await postConcurrently(url, { clients: 20, bytes: 2 * MiB, streamed })).toEqual(Array(20).fill(`413 ${HTTP_BODY_TOO_LARGE}`));
  });

  it.each([
    ['a Content-Length over the limit', false],
    ['a chunked body that grows past the limit', true],
  ])('replies to %s with Connection: close before the body ends, and closes once the client sent it', async (_, chunked) => {
    const url = await startServer();
    const result = await uploadRawBody(url, { path: '/', bytes: 2 * MiB, chunked, pauseAfterBytes: LIMIT + 256 * 1024 });
    expect(result).toMatchObject({ status: 413, error: null, endedEarly: false, sentBytes: 2 * MiB, headers: { connection: 'close' } });
    expect(JSON.parse(result.body)).toEqual({ error: { code: HTTP_BODY_TOO_LARGE } });
  });

  it('closes the connection when the client stalls for longer than the drain time', async () => {
    const url = await startServer({ maxBytes: 4 * MiB, maxMs: 100 });
    const result = await uploadRawBody(url, { path: '/', bytes: 2 * MiB, chunked: true, pauseAfterBytes: LIMIT + 256 * 1024, stallAfterReply: true });
    expect(result).toMatchObject({ status: 413, endedEarly: true, sentBytes: LIMIT + 256 * 1024 });
  });

  it('stops draining and closes the connection past the drain bytes', async () => {
    const url = await startServer({ maxBytes: 256 * 1024, maxMs: 60_000 });
    const bytes = 32 * MiB;
    const result = await uploadRawBody(url, { path: '/', bytes, pauseAfterBytes: LIMIT + 256 * 1024 });
    expect(result.status).toBe(413);
    expect(result.sentBytes).toBeLessThan(bytes);
  });
});
