import { createJsonClient, type HttpReply, normalizeBaseUrl } from '@differad/http-client';
import { type Clock, systemClock } from '../time/clock.js';
import { type ErrorContext, inferenceErrors } from './http-errors.js';
import { toRequestIdHeader } from './request-id-header.js';

export type { HttpReply } from '@differad/http-client';

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
  return normalizeBaseUrl(url, 'server');
}

/**
 * The @differad/http-client JSON client with the inference adapter's errors,
 * the X-Request-Id header and the injected clock's timers for deadlines.
 */
export function createServerConnection(url: string, options: ConnectionOptions = {}): ServerConnection {
  const clock = options.clock ?? systemClock;
  const client = createJsonClient<ErrorContext>({
    baseUrl: url,
    what: 'server',
    errors: inferenceErrors,
    connections: options.connections ?? 256,
    setTimer: (callback, ms) => clock.setTimeout(callback, ms),
  });

  /** The client's call; a request id that cannot be a header is INFERENCE_REQUEST_INVALID, before any server is contacted. */
  function toJsonCall(c: HttpCall) {
    const context = { server: client.url, requestId: c.requestId };
    let requestId: string;
    try {
      requestId = toRequestIdHeader(c.requestId);
    } catch (error) {
      throw inferenceErrors.requestInvalid(error, context);
    }
    return {
      method: c.method,
      path: c.path,
      body: c.body,
      headers: { 'x-request-id': requestId },
      timeoutMs: c.timeoutMs,
      signal: c.signal,
      context,
    };
  }

  return {
    url: client.url,
    call: async (c) => client.call(toJsonCall(c)),
    callJson: async (c) => client.callJson(toJsonCall(c)),
    close: () => client.close(),
  };
}
