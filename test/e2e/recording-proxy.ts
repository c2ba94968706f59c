/**
 * A loopback HTTP proxy for the train e2e tests: it forwards every request to
 * one server and records the JSON exchanges, so a test can see what differad
 * sent and got, change a reply's headers, or act before a request goes on.
 */
import { type RunningServer, startServer } from '@differad/http-server';
import { Hono } from 'hono';

/** Headers a proxy must not copy from one hop to the next (the server sets its own). */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'content-length', 'content-encoding', 'transfer-encoding']);

const copyHeaders = (from: Headers): Headers => {
  const to = new Headers();
  from.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) to.set(name, value);
  });
  return to;
};

const toJson = (text: string | undefined): unknown => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
};

/** What one proxied request was and what came back. */
export interface Exchange {
  readonly path: string;
  readonly requestId: string | null;
  readonly request: unknown;
  readonly reply: unknown;
}

export interface RecordingProxyOptions {
  /** Runs before a request is forwarded (awaited): the test may restart the server behind it. */
  readonly before?: (request: { readonly path: string; readonly requestId: string | null }) => Promise<void> | void;
  /** May change the reply's headers (the reported weight version). */
  readonly rewrite?: (exchange: Exchange, headers: Headers) => void;
}

/** A running proxy; the caller closes it. */
export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: Exchange[];
  close(): Promise<void>;
}

/** Starts a proxy to `upstream` on a free loopback port. */
export async function startRecordingProxy(upstream: string, options: RecordingProxyOptions = {}): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const app = new Hono().all('*', async (c) => {
    const { pathname, search } = new URL(c.req.url);
    const requestId = c.req.header('x-request-id') ?? null;
    await options.before?.({ path: pathname, requestId });
    const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : await c.req.text();
    const reply = await fetch(`${upstream}${pathname}${search}`, { method: c.req.method, headers: copyHeaders(c.req.raw.headers), body });
    const text = await reply.text();
    const headers = copyHeaders(reply.headers);
    const exchange = { path: pathname, requestId, request: toJson(body), reply: toJson(text) };
    exchanges.push(exchange);
    options.rewrite?.(exchange, headers);
    // An empty body stays empty (null): a Response refuses a body, even '', with 204 or 304.
    return new Response(text === '' ? null : text, { status: reply.status, headers });
  });
  const server: RunningServer = await startServer(app, { host: '127.0.0.1', port: 0 });
  return { url: server.url, exchanges, close: () => server.close() };
}
