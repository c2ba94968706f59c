import { DifferadError, isDifferadError } from '@differad/core';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HTTP_BODY_TOO_LARGE } from './body/request-body.js';
import { jsonBody } from './body/json-body.js';
import { createErrorHandler } from './errors/error-handler.js';
import { startServer } from './lifecycle/start-server.js';

const NameSchema = z.strictObject({ name: z.string() });

/** A server with the one error handler and one validated route. */
function createApp(): Hono {
  const app = new Hono();
  const onError = createErrorHandler({
    toReply: (error) =>
      isDifferadError(error)
        ? {
            status: error.code === HTTP_BODY_TOO_LARGE ? 413 : 400,
            body: { error: { code: error.code, message: error.message, details: { ...error.details } } },
          }
        : { status: 500, body: { error: { code: 'TRAINER_INTERNAL', message: String(error), details: {} } } },
  });
  app.onError(onError);
  app.notFound((c) => onError(new DifferadError('TRAINER_NOT_FOUND', `no route ${c.req.path}`), c));
  const invalid = () => new DifferadError('TRAINER_REQUEST_INVALID', 'bad body');
  app.post('/hello', jsonBody(NameSchema, { limit: { maxBytes: 64 }, invalid }), (c) => c.json({ hello: c.get('body').name }));
  return app;
}

const post = (app: Hono, body: string) => app.request('/hello', { method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('jsonBody and the error handler under app.request()', () => {
  it('hands the validated body to the handler', async () => {
    const res = await post(createApp(), '{"name":"pcb"}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'pcb' });
  });

  it.each([
    ['not JSON', '{name'],
    ['breaks the schema', '{"name":1}'],
    ['has an unknown field', '{"name":"a","x":1}'],
  ])('answers a body that is %s with the error shape of the server', async (_, body) => {
    const res = await post(createApp(), body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: { code: 'TRAINER_REQUEST_INVALID', message: 'bad body', details: {} } });
  });

  it('answers 413 for a declared or a streamed body over the limit', async () => {
    const declared = await post(createApp(), `{"name":"${'x'.repeat(100)}"}`);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: HTTP_BODY_TOO_LARGE, details: { limit: 64 } } });
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(10)));
        controller.close();
      },
    });
    const streamed = await createApp().request('/hello', { method: 'POST', body: chunks, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('answers a missing route through the same handler', async () => {
    const res = await createApp().request('/nowhere');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'TRAINER_NOT_FOUND', message: 'no route /nowhere' } });
  });
});

describe('startServer', () => {
  it('reports its URL and lets an in-flight request finish on close', async () => {
    let release = () => {};
    let arrived = () => {};
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const app = new Hono().get('/slow', async (c) => {
      arrived();
      await new Promise<void>((resolve) => (release = resolve));
      return c.text('done');
    });
    const server = await startServer(app, { closeGraceMs: 10_000 });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const reply = fetch(`${server.url}/slow`);
    await inFlight;
    const closed = server.close();
    release();
    const res = await reply;
    expect(await res.text()).toBe('done');
    await closed;
    expect(server.server.listening).toBe(false);
    await expect(fetch(`${server.url}/slow`)).rejects.toThrow();
  });

  it('refuses a port already bound', async () => {
    const first = await startServer(new Hono());
    await expect(startServer(new Hono(), { port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await first.close();
  });
});
