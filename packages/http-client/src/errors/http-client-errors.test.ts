import { describe, expect, it } from 'vitest';
import { DeadlineExceeded, createHttpErrorMapper, toBodyExcerpt } from './http-client-errors.js';
import { TEST_CODES, TEST_TABLE } from '../testing/trainer-codes.js';

const CODES = TEST_CODES;
const TABLE = TEST_TABLE;
const ctx = { url: 'http://t:8200', call: 'c1' };
const errors = createHttpErrorMapper<typeof ctx>({ codes: CODES, errors: TABLE, where: (c) => `${c.url} ${c.call}` });
const rejecting = createHttpErrorMapper<typeof ctx>({
  codes: CODES,
  errors: TABLE,
  where: (c) => `${c.url} ${c.call}`,
  rejected: {
    code: 'TRAINER_REJECTED',
    unknownCode: 'TRAINER_UNKNOWN',
    parseBody: (json) => {
      const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
      return typeof error?.code === 'string' && typeof error.message === 'string'
        ? { code: error.code, message: error.message }
        : undefined;
    },
  },
});

describe('createHttpErrorMapper', () => {
  it.each([
    [new DeadlineExceeded(50), 'TRAINER_TIMEOUT', undefined],
    [Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'TRAINER_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'TRAINER_UNAVAILABLE', 'ECONNREFUSED'],
    [Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), 'TRAINER_UNAVAILABLE', 'UND_ERR_SOCKET'],
  ])("maps the transport failure %s to a retryable %s with the call's context", (error, code, cause) => {
    expect(errors.transport(error, ctx)).toMatchObject({ code, retryable: true, details: { ...ctx, ...(cause ? { cause } : {}) } });
  });

  it("takes whether a timeout or a failed connection is retried from the client's table", () => {
    const once = createHttpErrorMapper<typeof ctx>({
      codes: CODES,
      errors: { ...TABLE, TRAINER_TIMEOUT: { ...TABLE.TRAINER_TIMEOUT, retryable: false } },
      where: (c) => c.url,
    });
    expect(once.transport(new DeadlineExceeded(50), ctx).retryable).toBe(false);
    expect(once.transport(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), ctx).retryable).toBe(true);
  });

  it("makes what undici refused before sending the client's own, unretried REQUEST_INVALID", () => {
    const refused = Object.assign(new Error('invalid header'), { code: 'UND_ERR_INVALID_ARG' });
    expect(errors.transport(refused, ctx)).toMatchObject({
      code: 'TRAINER_REQUEST_INVALID',
      retryable: false,
      details: { ...ctx, clientSide: true },
    });
  });

  it('retries 5xx, 408 and 429 but not other 4xx, with a 500-character excerpt', () => {
    expect(errors.status(503, 'x'.repeat(2000), ctx)).toMatchObject({ code: 'TRAINER_HTTP_ERROR', retryable: true });
    expect(errors.status(503, 'x'.repeat(2000), ctx).details.body).toHaveLength(500);
    expect(errors.status(429, '', ctx).retryable).toBe(true);
    expect(errors.status(408, '', ctx).retryable).toBe(true);
    expect(errors.status(400, '', ctx)).toMatchObject({ code: 'TRAINER_HTTP_ERROR', retryable: false });
  });

  it("turns a 4xx into the profile's rejection carrying the server's error body, or an unknown one", () => {
    const body = { error: { code: 'STEP_INCOMPLETE', message: 'missing 1' } };
    const e = rejecting.status(409, JSON.stringify(body), ctx);
    expect(e).toMatchObject({ code: 'TRAINER_REJECTED', retryable: false, details: { ...ctx, status: 409, error: body.error } });
    expect(e.message).toBe('http://t:8200 c1 rejected (HTTP 409 STEP_INCOMPLETE): missing 1');
    expect(rejecting.status(400, 'plain text', ctx).details.error).toEqual({ code: 'TRAINER_UNKNOWN', message: 'plain text' });
    expect(rejecting.status(429, '', ctx).code).toBe('TRAINER_HTTP_ERROR');
  });

  it('names the field of a bad response', () => {
    expect(errors.badResponse('grad_norm', 'expected number', ctx)).toMatchObject({
      code: 'TRAINER_BAD_RESPONSE',
      retryable: false,
      details: { field: 'grad_norm' },
    });
    expect(errors.badResponse('', 'not JSON', ctx).message).toBe('http://t:8200 c1: bad response: (body): not JSON');
  });
});

describe('toBodyExcerpt', () => {
  it('quotes the message of OpenAI, differad and FastAPI error bodies, else the raw start', () => {
    expect(toBodyExcerpt(JSON.stringify({ error: { message: 'top_p must be in (0, 1]' } }))).toBe('top_p must be in (0, 1]');
    expect(toBodyExcerpt(JSON.stringify({ error: 'gone' }))).toBe('gone');
    expect(toBodyExcerpt(JSON.stringify({ detail: 'Not Found' }))).toBe('Not Found');
    expect(toBodyExcerpt(JSON.stringify({ error: null }))).toBe('{"error":null}');
    expect(toBodyExcerpt('<html>')).toBe('<html>');
  });
});
