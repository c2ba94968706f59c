import { describe, expect, it } from 'vitest';
import { DeadlineExceeded, toHttpStatusError, toTransportError } from './http-errors.js';

const ctx = { server: 'http://s:8000', requestId: 'r1' };

describe('the one mapping of transport and HTTP failures', () => {
  it.each([
    [new DeadlineExceeded(50), 'INFERENCE_TIMEOUT'],
    [Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'INFERENCE_TIMEOUT'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'INFERENCE_UNAVAILABLE'],
    [Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), 'INFERENCE_UNAVAILABLE'],
  ])('%s → %s, retryable, with server and request id', (error, code) => {
    expect(toTransportError(error, ctx)).toMatchObject({ code, retryable: true, details: ctx });
  });

  it('an argument undici refuses before sending is this client\'s INFERENCE_REQUEST_INVALID, not retried', () => {
    const refused = Object.assign(new Error('invalid x-request-id header'), { code: 'UND_ERR_INVALID_ARG' });
    expect(toTransportError(refused, ctx)).toMatchObject({ code: 'INFERENCE_REQUEST_INVALID', retryable: false, details: { ...ctx, clientSide: true } });
  });

  it('retries 5xx, 408 and 429 but not other 4xx, and quotes the vLLM error message', () => {
    expect(toHttpStatusError(503, '', ctx).retryable).toBe(true);
    expect(toHttpStatusError(429, '', ctx).retryable).toBe(true);
    const e = toHttpStatusError(400, JSON.stringify({ error: { message: 'top_p must be in (0, 1]', code: 400 } }), ctx);
    expect(e).toMatchObject({ code: 'INFERENCE_HTTP_ERROR', retryable: false, details: { status: 400, body: 'top_p must be in (0, 1]' } });
    expect(toHttpStatusError(502, 'x'.repeat(2000), ctx).details.body).toHaveLength(500);
  });
});
