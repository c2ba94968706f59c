import {
  type DrainLimits,
  DEFAULT_DRAIN_LIMITS,
  HTTP_BODY_TOO_LARGE,
  readBodyText,
  type RunningServer,
  sendWhole,
  startServer,
} from '@differad/http-server';
import { postConcurrently, uploadRawBody } from '@differad/testing';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { DifferadError } from '@differad/core';

// The drain behaviour every server's 413 relies on (issue 11), through the lifecycle package: a Hono app on
// startServer whose replies go out with sendWhole (sendAndDrain on the node socket).
const LIMIT = 1024 * 1024;
const MiB = 1024 * 1024;

describe('sendWhole on a server', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** A server that echoes the size of bodies up to LIMIT and answers 413 `{error: {code}}` past it. */
  async function startEcho(limits: DrainLimits = DEFAULT_DRAIN_LIMITS): Promise<string> {
    const app = new Hono().post('/', async (c) => {
      const json = { 'content-type': 'application/json' };
      try {
        const text = await readBodyText(c, { maxBytes: LIMIT });
        return sendWhole(c, 200, json, JSON.stringify({ bytes: Buffer.byteLength(text) }), limits);
      } catch (error) {
        return sendWhole(c, 413, json, JSON.stringify({ error: { code: (error as DifferadError).code } }), limits);
      }
    });
    server = await startServer(app, { closeGraceMs: 0 });
    return server.url;
  }

  it('answers a request that arrived whole with a plain reply on a connection that stays open', async () => {
    const url = await startEcho();
    const first = await fetch(url, { method: 'POST', body: 'x'.repeat(1000) });
    expect(first.headers.get('connection')).toBe('keep-alive');
    expect(await first.json()).toEqual({ bytes: 1000 });
  });

  it.each([
    ['a Content-Length over the limit', false],
    ['a chunked body that grows past the limit', true],
  ])('answers 20 concurrent clients sending %s with a readable 413', async (_, streamed) => {
    const url = await startEcho();
    expect(await postConcurrently(url, { clients: 20, bytes: 2 * MiB, streamed })).toEqual(Array(20).fill(`413 ${HTTP_BODY_TOO_LARGE}`));
  });

  it.each([
    ['a Content-Length over the limit', false],
    ['a chunked body that grows past the limit', true],
  ])('replies to %s with Connection: close before the body ends, and closes once the client sent it', async (_, chunked) => {
    const url = await startEcho();
    const result = await uploadRawBody(url, { path: '/', bytes: 2 * MiB, chunked, pauseAfterBytes: LIMIT + 256 * 1024 });
    expect(result).toMatchObject({ status: 413, error: null, endedEarly: false, sentBytes: 2 * MiB, headers: { connection: 'close' } });
    expect(JSON.parse(result.body)).toEqual({ error: { code: HTTP_BODY_TOO_LARGE } });
  });

  it('closes the connection when the client stalls for longer than the drain time', async () => {
    const url = await startEcho({ maxBytes: 4 * MiB, maxMs: 100 });
    const result = await uploadRawBody(url, {
      path: '/',
      bytes: 2 * MiB,
      chunked: true,
      pauseAfterBytes: LIMIT + 256 * 1024,
      stallAfterReply: true,
    });
    expect(result).toMatchObject({ status: 413, endedEarly: true, sentBytes: LIMIT + 256 * 1024 });
  });

  it('stops draining and closes the connection past the drain bytes', async () => {
    const url = await startEcho({ maxBytes: 256 * 1024, maxMs: 60_000 });
    const bytes = 32 * MiB;
    const result = await uploadRawBody(url, { path: '/', bytes, pauseAfterBytes: LIMIT + 256 * 1024 });
    expect(result.status).toBe(413);
    expect(result.sentBytes).toBeLessThan(bytes);
  });
});
