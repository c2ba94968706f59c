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

  /**
   * One call through undici's dispatcher with a handler of its own (the
   * handler interface of undici 7: lib/handler/unwrap-handler.js) rather than
   * `pool.request`, whose response stream, abort-signal plumbing and async
   * resource cost ~30 µs more CPU per call (measured against a loopback
   * server: ~64 vs ~94 µs for a small reply) — a step makes ~30 calls. The
   * reply is read whole, as `body.text()` would (UTF-8, a BOM dropped).
   */
  async function call(c: JsonCall<Ctx>): Promise<HttpReply> {
    const wire = toWire(c);
    const caller = c.signal;
    if (caller?.aborted) throw caller.reason;
    return new Promise<HttpReply>((resolve, reject) => {
      let settled = false;
      // Set once the request holds a socket; an abort before that is applied when it gets one.
      let controller: { abort(reason: Error): void } | null = null;
      let abortWith: Error | null = null;
      let status = 0;
      let headers: HttpReply['headers'] = {};
      const chunks: Buffer[] = [];
      const settle = (error: unknown, reply?: HttpReply) => {
        if (settled) return;
        settled = true;
        cancelTimer();
        caller?.removeEventListener('abort', onCallerAbort);
        if (reply) resolve(reply);
        else reject(error);
      };
      const abort = (reason: Error, error: unknown) => {
        abortWith ??= reason;
        controller?.abort(reason);
        settle(error);
      };
      const cancelTimer = setTimer(() => {
        const reason = new DeadlineExceeded(c.timeoutMs);
        abort(reason, errors.transport(reason, c.context));
      }, c.timeoutMs);
      // The caller's reason is rethrown as is, never mapped.
      const onCallerAbort = () => abort(new Error('aborted by the caller'), caller!.reason);
      caller?.addEventListener('abort', onCallerAbort, { once: true });
      pool.dispatch(
        { method: c.method, path: prefix + c.path, headers: wire.headers, body: wire.body },
        {
          onRequestStart(ctl) {
            controller = ctl;
            if (abortWith) ctl.abort(abortWith);
          },
          onResponseStart(_ctl, statusCode, replyHeaders) {
            // 1xx (100 Continue) is not the reply.
            if (statusCode < 200) return;
            status = statusCode;
            headers = replyHeaders;
          },
          onResponseData(_ctl, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
            const text = bytes.toString('utf8', bom ? 3 : 0);
            if (status < 200 || status >= 300) settle(errors.status(status, text, c.context));
            else settle(undefined, { status, headers, text });
          },
          onResponseError(_ctl, error) {
            settle(errors.transport(error, c.context));
          },
        },
      );
    });
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
