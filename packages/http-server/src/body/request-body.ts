import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { DifferadError } from '@differad/core';

/** The code of the error {@link readRequestBody} throws past its limit unless the caller builds its own. */
export const HTTP_BODY_TOO_LARGE = 'HTTP_BODY_TOO_LARGE';

/** Default body limit of {@link readRequestBody}. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** How much a request may send. */
export interface BodyLimit {
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /**
   * The error to throw past the limit: `declaredBytes` is the Content-Length
   * when that alone was over it, null when the bytes read were. Default: a
   * DifferadError HTTP_BODY_TOO_LARGE with `details.limit`.
   */
  readonly tooLarge?: (declaredBytes: number | null) => Error;
}

/** How long an unread request body is read and discarded after an early reply. */
export interface DrainLimits {
  readonly maxBytes: number;
  readonly maxMs: number;
}

/** A few MiB or two seconds: enough for a client to finish an oversized upload and read the reply, not enough to tie the server up. */
export const DEFAULT_DRAIN_LIMITS: DrainLimits = { maxBytes: 4 * 1024 * 1024, maxMs: 2000 };

/** The error of `limit` past it: its own `tooLarge`, else a DifferadError HTTP_BODY_TOO_LARGE with `details.limit`. */
export function toTooLarge(limit: BodyLimit): (declaredBytes: number | null) => Error {
  const max = limit.maxBytes;
  return (
    limit.tooLarge ??
    ((declared) =>
      new DifferadError(
        HTTP_BODY_TOO_LARGE,
        declared === null ? `the body is larger than ${max} bytes` : `the body is ${declared} bytes; the limit is ${max}`,
        {
          details: { limit: max },
        },
      ))
  );
}

/**
 * Reads a request body up to `limit.maxBytes`. Past it, whether by the
 * declared Content-Length (then nothing is read) or by the bytes read, it
 * stops buffering, pauses the request and rejects with `limit.tooLarge`. It
 * never destroys the request: answer with {@link sendAndDrain} so the client,
 * still sending, reads the 413.
 */
export function readRequestBytes(req: IncomingMessage, limit: BodyLimit = { maxBytes: DEFAULT_MAX_BODY_BYTES }): Promise<Buffer> {
  const tooLarge = toTooLarge(limit);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit.maxBytes) return Promise.reject(tooLarge(declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit.maxBytes) return void chunks.push(chunk);
      // A for-await loop would destroy the request here, and with it the socket the 413 must go out on.
      req.pause();
      settle(() => reject(tooLarge(null)));
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks)));
    const onError = (error: Error) => settle(() => reject(error));
    const onClose = () => settle(() => reject(new Error('the client closed the connection before the end of the body')));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** {@link readRequestBytes} as UTF-8 text. */
export async function readRequestBody(req: IncomingMessage, limit?: BodyLimit): Promise<string> {
  return (await readRequestBytes(req, limit)).toString('utf8');
}

/** True when the request carries a body: chunked, or a Content-Length that is not 0. */
function declaresBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? '0');
  return !Number.isFinite(length) || length > 0;
}

/** Reads and discards what is left of `req` until it ends or closes, or until `limits` are used up. */
function drainRequest(req: IncomingMessage, limits: DrainLimits): Promise<void> {
  if (req.destroyed || req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let drained = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > limits.maxBytes) done();
    };
    const timer = setTimeout(done, limits.maxMs);
    timer.unref();
    req.on('data', onData).once('end', done).once('close', done).once('error', done);
    req.resume();
  });
}

/**
 * Sends a whole reply (an error, typically a 413) to a request whose body
 * may still be arriving, so that the client reads it. Closing a socket with
 * unread input makes the kernel reset the connection, and a client still
 * writing its body then fails with EPIPE or ECONNRESET instead of reading
 * the reply. So: when the body has all arrived this is a plain reply;
 * otherwise the status, headers (with `Connection: close`) and body go out at
 * once, the rest of the request body is read and discarded (up to `limits`),
 * and only then does the response end, which closes the connection.
 *
 * A request that declares no body (no Transfer-Encoding, no Content-Length
 * above 0) counts as arrived: in the request listener itself even such a
 * request is not yet `complete`, and a synchronous error reply must not close
 * its keep-alive connection.
 */
export function sendAndDrain(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: string | Buffer,
  limits: DrainLimits = DEFAULT_DRAIN_LIMITS,
): void {
  if (res.destroyed || res.writableEnded) return;
  const all = { ...headers, 'content-length': Buffer.byteLength(body) };
  if (res.req.complete || !declaresBody(res.req)) {
    res.writeHead(status, all).end(body);
    return;
  }
  res.writeHead(status, { ...all, connection: 'close' });
  res.write(body);
  void drainRequest(res.req, limits).then(() => res.end());
}
