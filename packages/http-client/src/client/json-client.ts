import { Pool } from 'undici';
import { DeadlineExceeded, type HttpErrorMapper } from '../errors/http-client-errors.js';
import { normalizeBaseUrl } from './base-url.js';

/**
 * A JSON body that serializes itself, sent byte for byte: for bodies whose
 * large parts (a pair's images) repeat from call to call, so they are not
 * serialized and encoded again each time. `serialize` runs when the call is
 * sent (what it throws is a request that cannot be sent); its bytes must be JSON.
 */
export class SerializedJson {
  constructor(private readonly serialize: () => Buffer) {}

  bytes(): Buffer {
    return this.serialize();
  }
}

/** One HTTP call; `Ctx` is what its errors carry in `details` (and name in their message). */
export interface JsonCall<Ctx extends object> {
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, with an optional query string. */
  readonly path: string;
  /** Sent as JSON (`content-type: application/json`) when present; a {@link SerializedJson} as its bytes. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** The whole call: connect, send, wait, read. */
  readonly timeoutMs: number;
  /** The caller's cancellation; its reason is rethrown as is, never mapped. */
  readonly signal?: AbortSignal;
  readonly context: Ctx;
}

/** A 2xx reply. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** A keep-alive JSON client of one server. */
export interface JsonClient<Ctx extends object> {
  /** The normalized base URL (see {@link normalizeBaseUrl}). */
  readonly url: string;
  /** Resolves with a 2xx reply; otherwise throws the mapper's DifferadError. */
  call(call: JsonCall<Ctx>): Promise<HttpReply>;
  /** `call` plus JSON parsing; a body that is not JSON is the mapper's bad response for the whole body. */
  callJson(call: JsonCall<Ctx>): Promise<{ reply: HttpReply; json: unknown }>;
  /** Destroys the pool: a hung call must not keep the client from closing. */
  close(): Promise<void>;
}

/** Options of {@link createJsonClient}. */
export interface JsonClientOptions<Ctx extends object> {
  /** `http://host:port` with an optional path prefix; a trailing slash or `/v1` is dropped. */
  readonly baseUrl: string;
  /** What the URL points at, for the TypeError of a URL that is not http(s) (`server`, `trainer`). */
  readonly what: string;
  /** How failures become DifferadErrors: the client's codes, once (see createHttpErrorMapper). */
  readonly errors: HttpErrorMapper<Ctx>;
  /** Most sockets to the server (default 4). */
  readonly connections?: number;
  /** Runs `callback` after `ms` and returns its cancel (default: an unref'd `setTimeout`); injected so tests can drive time. */
  readonly setTimer?: (callback: () => void, ms: number) => () => void;
}

function unrefTimer(callback: () => void, ms: number): () => void {
  const t = setTimeout(callback, ms);
  t.unref();
  return () => clearTimeout(t);
}

/**
 * Opens an undici Pool to one server. Every call has one deadline: a timer
 * aborts it with {@link DeadlineExceeded}; undici's own headers and body
 * timeouts are off so there is one deadline, not three. The client never
 * retries: each caller knows whether its call may be repeated.
 */
export function createJsonClient<Ctx extends object>(options: JsonClientOptions<Ctx>): JsonClient<Ctx> {
  const url = normalizeBaseUrl(options.baseUrl, options.what);
  const { origin, pathname } = new URL(url);
  const prefix = pathname === '/' ? '' : pathname;
  const { errors } = options;
  const setTimer = options.setTimer ?? unrefTimer;
  const pool = new Pool(origin, {
    connections: options.connections ?? 4,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  });

  /** Headers and body of a call; what cannot be sent is REQUEST_INVALID, before the server is contacted. */
  function toWire(c: JsonCall<Ctx>): { headers: Record<string, string>; body: string | Buffer | undefined } {
    try {
      if (c.body === undefined) return { headers: { ...c.headers }, body: undefined };
      const body = c.body instanceof SerializedJson ? c.body.bytes() : JSON.stringify(c.body);
      return { headers: { 'content-type': 'application/json', ...c.headers }, body };
    } catch (error) {
      throw errors.requestInvalid(error, c.context);
    }
  }

  async function call(c: JsonCall<Ctx>): Promise<HttpReply> {
    const wire = toWire(c);
    const deadline = new AbortController();
    const cancelTimer = setTimer(() => deadline.abort(new DeadlineExceeded(c.timeoutMs)), c.timeoutMs);
    const signal = c.signal ? AbortSignal.any([deadline.signal, c.signal]) : deadline.signal;
    let status: number;
    let text: string;
    let headers: HttpReply['headers'];
    try {
      const res = await pool.request({ method: c.method, path: prefix + c.path, headers: wire.headers, body: wire.body, signal });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (error) {
      if (c.signal?.aborted && !deadline.signal.aborted) throw c.signal.reason;
      throw errors.transport(deadline.signal.aborted ? deadline.signal.reason : error, c.context);
    } finally {
      cancelTimer();
    }
    if (status < 200 || status >= 300) throw errors.status(status, text, c.context);
    return { status, headers, text };
  }

  return {
    url,
    call,
    async callJson(c) {
      const reply = await call(c);
      try {
        return { reply, json: JSON.parse(reply.text) as unknown };
      } catch {
        throw errors.badResponse('', `not JSON: ${reply.text.slice(0, 200)}`, c.context);
      }
    },
    close: () => pool.destroy(),
  };
}
