import { Pool } from 'undici';
import { type Clock, systemClock } from '../time/clock.js';
import { DeadlineExceeded, toBadResponseError, toHttpStatusError, toRequestInvalidError, toTransportError } from './http-errors.js';
import { toRequestIdHeader } from './request-id-header.js';

/** One HTTP call to a server. */
export interface HttpCall {
  readonly method: 'GET' | 'POST';
  /** Path below the server's base URL, with an optional query string. */
  readonly path: string;
  /** Sent as JSON when present. */
  readonly body?: unknown;
  readonly timeoutMs: number;
  /** Any text: it travels as {@link toRequestIdHeader} encodes it. */
  readonly requestId: string;
  /** The caller's cancellation; its reason is rethrown as is. */
  readonly signal?: AbortSignal;
}

/** A 2xx reply. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** A keep-alive connection pool to one OpenAI-compatible server. */
export interface ServerConnection {
  /** The normalized base URL (no trailing slash, no `/v1`). */
  readonly url: string;
  /** Sends a call; resolves with a 2xx reply, otherwise throws a DifferadError (see http-errors). */
  call(call: HttpCall): Promise<HttpReply>;
  /** `call` plus JSON parsing; a body that is not JSON is INFERENCE_BAD_RESPONSE. */
  callJson(call: HttpCall): Promise<{ reply: HttpReply; json: unknown }>;
  close(): Promise<void>;
}

/** Options of {@link createServerConnection}. */
export interface ConnectionOptions {
  readonly clock?: Clock;
  /** Most sockets to this server (default 256). */
  readonly connections?: number;
}

/** `http://h:8000/v1/` → `http://h:8000`; throws a TypeError for a URL that is not http(s). */
export function normalizeServerUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`server URL must be http(s): ${url}`);
  const path = u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${u.origin}${path}`;
}

/**
 * Opens an undici Pool to one server. Every call has a deadline: a timer on the
 * injected clock aborts it with {@link DeadlineExceeded}; undici's own headers
 * and body timeouts are off so there is one deadline, not three.
 */
export function createServerConnection(url: string, options: ConnectionOptions = {}): ServerConnection {
  const base = normalizeServerUrl(url);
  const { origin, pathname } = new URL(base);
  const clock = options.clock ?? systemClock;
  const pool = new Pool(origin, {
    connections: options.connections ?? 256,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const prefix = pathname === '/' ? '' : pathname;

  /** Headers and body of a call; what cannot be sent is INFERENCE_REQUEST_INVALID, before any server is contacted. */
  function toWire(c: HttpCall, ctx: { server: string; requestId: string }): { headers: Record<string, string>; body: string | undefined } {
    try {
      const requestId = toRequestIdHeader(c.requestId);
      if (c.body === undefined) return { headers: { 'x-request-id': requestId }, body: undefined };
      return { headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: JSON.stringify(c.body) };
    } catch (error) {
      throw toRequestInvalidError(error, ctx);
    }
  }

  async function call(c: HttpCall): Promise<HttpReply> {
    const ctx = { server: base, requestId: c.requestId };
    const wire = toWire(c, ctx);
    const deadline = new AbortController();
    const cancelTimer = clock.setTimeout(() => deadline.abort(new DeadlineExceeded(c.timeoutMs)), c.timeoutMs);
    const signal = c.signal ? AbortSignal.any([deadline.signal, c.signal]) : deadline.signal;
    let status: number;
    let text: string;
    let headers: HttpReply['headers'];
    try {
      const res = await pool.request({
        method: c.method,
        path: prefix + c.path,
        headers: wire.headers,
        body: wire.body,
        signal,
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (error) {
      if (c.signal?.aborted && !deadline.signal.aborted) throw c.signal.reason;
      throw toTransportError(deadline.signal.aborted ? deadline.signal.reason : error, ctx);
    } finally {
      cancelTimer();
    }
    if (status < 200 || status >= 300) throw toHttpStatusError(status, text, ctx);
    return { status, headers, text };
  }

  return {
    url: base,
    call,
    async callJson(c) {
      const reply = await call(c);
      try {
        return { reply, json: JSON.parse(reply.text) as unknown };
      } catch {
        throw toBadResponseError('(body)', `not JSON: ${reply.text.slice(0, 200)}`, { server: base, requestId: c.requestId });
      }
    },
    // destroy, not close: a hung request must not keep the fleet from closing.
    close: () => pool.destroy(),
  };
}
