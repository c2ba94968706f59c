import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { DifferadError, isDifferadError } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { HTTP_BODY_TOO_LARGE, readRequestBody, readRequestBytes } from './request-body.js';

const LIMIT = 1024 * 1024;

/** A stand-in request: a stream with headers, fed by the test. */
function toRequest(headers: Record<string, string> = {}): PassThrough & IncomingMessage {
  return Object.assign(new PassThrough(), { headers }) as unknown as PassThrough & IncomingMessage;
}

describe('readRequestBytes', () => {
  it('reads a body within the limit', async () => {
    const req = toRequest();
    const read = readRequestBody(req, { maxBytes: 10 });
    req.end('{"a":"é"}');
    expect(await read).toBe('{"a":"é"}');
  });

  it('rejects a declared Content-Length over the limit without reading a byte', async () => {
    const req = toRequest({ 'content-length': String(2 * LIMIT) });
    req.write('x');
    const declared: (number | null)[] = [];
    const tooLarge = (bytes: number | null) => (declared.push(bytes), new DifferadError('TRAINER_BODY_TOO_LARGE', 'too large'));
    await expect(readRequestBytes(req, { maxBytes: LIMIT, tooLarge })).rejects.toMatchObject({ code: 'TRAINER_BODY_TOO_LARGE' });
    expect(declared).toEqual([2 * LIMIT]);
    expect(req.readableLength).toBe(1);
  });

  it('stops buffering a body that grows past the limit, pauses it, and does not destroy it', async () => {
    const req = toRequest();
    const read = readRequestBytes(req, { maxBytes: 5 });
    req.write('abc');
    req.write('def');
    const error = await read.catch((e: unknown) => e);
    expect(isDifferadError(error, HTTP_BODY_TOO_LARGE)).toBe(true);
    expect(error).toMatchObject({ message: 'the body is larger than 5 bytes', details: { limit: 5 } });
    expect(req.isPaused()).toBe(true);
    expect(req.destroyed).toBe(false);
  });

  it('rejects when the client goes away before the end of the body', async () => {
    const req = toRequest();
    const read = readRequestBytes(req, { maxBytes: 100 });
    req.write('abc');
    req.destroy();
    await expect(read).rejects.toThrow(/closed the connection/);
  });
});
