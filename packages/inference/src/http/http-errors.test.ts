import { DeadlineExceeded } from '@differad/http-client';
import { describe, expect, it } from 'vitest';
import { inferenceErrors, toUnavailableError } from './http-errors.js';

const ctx = { server: 'http://s:8000', requestId: 'r1' };

describe("the inference adapter's errors", () => {
  it('name the server and the request, with the INFERENCE_ codes', () => {
    const timeout = inferenceErrors.transport(new DeadlineExceeded(50), ctx);
    expect(timeout).toMatchObject({ code: 'INFERENCE_TIMEOUT', retryable: true, details: ctx });
    expect(timeout.message).toBe('http://s:8000: request r1 timed out (deadline of 50 ms exceeded)');
    const refused = inferenceErrors.transport(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), ctx);
    expect(refused).toMatchObject({ code: 'INFERENCE_UNAVAILABLE', retryable: true, details: { ...ctx, cause: 'ECONNREFUSED' } });
    const invalid = inferenceErrors.transport(
      Object.assign(new Error('invalid x-request-id header'), { code: 'UND_ERR_INVALID_ARG' }),
      ctx,
    );
    expect(invalid).toMatchObject({ code: 'INFERENCE_REQUEST_INVALID', retryable: false, details: { ...ctx, clientSide: true } });
  });

  it('quote the vLLM error message of an error status and keep every status an INFERENCE_HTTP_ERROR', () => {
    const e = inferenceErrors.status(400, JSON.stringify({ error: { message: 'top_p must be in (0, 1]', code: 400 } }), ctx);
    expect(e).toMatchObject({ code: 'INFERENCE_HTTP_ERROR', retryable: false, details: { status: 400, body: 'top_p must be in (0, 1]' } });
    expect(inferenceErrors.status(404, '', ctx).code).toBe('INFERENCE_HTTP_ERROR');
  });

  it('say "(body)" for a reply that is not JSON, and null for the server of a fleet-wide failure', () => {
    expect(inferenceErrors.badResponse('', 'not JSON: <html>', ctx).details.field).toBe('(body)');
    expect(toUnavailableError('the fleet is closed', { requestId: 'q' }).details).toEqual({ server: null, requestId: 'q' });
  });
});
