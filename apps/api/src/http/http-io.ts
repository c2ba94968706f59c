import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRequestBody, sendAndDrain } from '@differad/http-server';
import { apiError } from '../errors/api-errors.js';
import { checkJsonContentType } from './request-guard.js';

/** Default request body limit: 1 MiB (a training config is a few KiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

const JSON_TYPE = 'application/json; charset=utf-8';

/** Headers every response carries: no sniffing, no framing, no referrer, nothing from other origins. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * Reads the body up to `limit` bytes: API_BODY_TOO_LARGE (413) as soon as the
 * declared length or the bytes read pass it, so a huge body is never buffered.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = (declared: number | null) =>
    declared === null
      ? apiError('API_BODY_TOO_LARGE', `the body is larger than the limit of ${limit} bytes`, { limit })
      : apiError('API_BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`, { limit });
  return readRequestBody(req, { maxBytes: limit, tooLarge });
}

/**
 * Reads and parses a JSON body: 415 for another media type or none, 413 past
 * `limit`, 400 naming the body when it is not JSON. An empty body is `undefined`.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  checkJsonContentType(req.headers);
  const text = await readBody(req, limit);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    const message = `the body is not JSON: ${(cause as Error).message}`;
    throw apiError('API_REQUEST_INVALID', message, { fields: [{ field: '', message: 'not JSON' }] });
  }
}

/** Sends `body` as JSON unless the client is gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON_TYPE, JSON.stringify(body), headers);
}

/**
 * Sends an error body as JSON with sendAndDrain: when the request body has not
 * all arrived (a 413, a 401 before reading) the connection closes after the
 * reply, once the rest of the body is drained, so the client reads the reply.
 */
export function sendErrorJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendAndDrain(res, status, { ...SECURITY_HEADERS, 'content-type': JSON_TYPE, ...headers }, JSON.stringify(body));
}

/** Sends an HTML page. */
export function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  send(res, status, 'text/html; charset=utf-8', html, headers);
}

/** Sends `text` with `contentType` and the security headers. */
export function send(res: ServerResponse, status: number, contentType: string, text: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
