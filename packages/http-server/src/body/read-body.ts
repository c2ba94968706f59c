import { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { type BodyLimit, DEFAULT_MAX_BODY_BYTES, readRequestBytes, toTooLarge } from './request-body.js';

/** The node request behind a Hono context served by @hono/node-server, or null (e.g. under `app.request()`). */
export function toIncoming(c: Context): IncomingMessage | null {
  const env = c.env as { incoming?: unknown } | undefined;
  return env?.incoming instanceof IncomingMessage ? env.incoming : null;
}

/** Reads a web request body up to the limit (the path of `app.request()`, where no socket exists). */
async function readWebBody(request: Request, limit: BodyLimit): Promise<Buffer> {
  const tooLarge = toTooLarge(limit);
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit.maxBytes) throw tooLarge(declared);
  if (request.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > limit.maxBytes) {
      await reader.cancel();
      throw tooLarge(null);
    }
    chunks.push(Buffer.from(value));
  }
}

/**
 * The request body, up to `limit.maxBytes` (default 64 MiB), as bytes. Under
 * @hono/node-server it reads the node request itself: past the limit it
 * rejects without destroying the request, so the error handler can answer
 * with a 413 the client reads (see {@link sendAndDrain}).
 */
export function readBodyBytes(c: Context, limit: BodyLimit = { maxBytes: DEFAULT_MAX_BODY_BYTES }): Promise<Buffer> {
  const incoming = toIncoming(c);
  return incoming ? readRequestBytes(incoming, limit) : readWebBody(c.req.raw, limit);
}

/** {@link readBodyBytes} as UTF-8 text. */
export async function readBodyText(c: Context, limit?: BodyLimit): Promise<string> {
  return (await readBodyBytes(c, limit)).toString('utf8');
}
