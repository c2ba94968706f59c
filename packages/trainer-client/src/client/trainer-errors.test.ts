import { DeadlineExceeded } from '@differad/http-client';
import { describe, expect, it } from 'vitest';
import { trainerErrors } from './trainer-errors.js';

const ctx = { url: 'http://t:8200', method: 'POST', path: '/v1/optim_step' };

describe("the trainer client's errors", () => {
  it('name the call and use the TRAINER_ codes for transport failures', () => {
    const timeout = trainerErrors.transport(new DeadlineExceeded(50), ctx);
    expect(timeout).toMatchObject({ code: 'TRAINER_TIMEOUT', retryable: true, details: ctx });
    expect(timeout.message).toBe('POST http://t:8200/v1/optim_step timed out (deadline of 50 ms exceeded)');
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(trainerErrors.transport(reset, ctx)).toMatchObject({
      code: 'TRAINER_UNAVAILABLE',
      retryable: true,
      details: { ...ctx, cause: 'UND_ERR_SOCKET' },
    });
  });

  it("turn a 4xx into TRAINER_REJECTED with the trainer's error body, not retried", () => {
    const body = { error: { code: 'TRAINER_STEP_INCOMPLETE', message: 'step 3 is missing micro-batches 1', details: { missing: [1] } } };
    const e = trainerErrors.status(409, JSON.stringify(body), ctx);
    expect(e).toMatchObject({ code: 'TRAINER_REJECTED', retryable: false, details: { status: 409, error: body.error } });
    expect(e.message).toContain('TRAINER_STEP_INCOMPLETE');
    expect(trainerErrors.status(400, 'plain text', ctx).details.error).toEqual({ code: 'TRAINER_UNKNOWN', message: 'plain text' });
  });

  it("turn 5xx, 408 and 429 into retryable TRAINER_HTTP_ERROR quoting the error body's message", () => {
    const body = { error: { code: 'TRAINER_INTERNAL', message: 'CUDA out of memory' } };
    expect(trainerErrors.status(500, JSON.stringify(body), ctx)).toMatchObject({
      code: 'TRAINER_HTTP_ERROR',
      retryable: true,
      details: { body: 'CUDA out of memory' },
    });
    expect(trainerErrors.status(408, '', ctx)).toMatchObject({ code: 'TRAINER_HTTP_ERROR', retryable: true });
  });

  it('name the field of a bad response, "" for the whole body', () => {
    expect(trainerErrors.badResponse('grad_norm', 'expected number', ctx)).toMatchObject({
      code: 'TRAINER_BAD_RESPONSE',
      retryable: false,
      details: { field: 'grad_norm' },
    });
    expect(trainerErrors.badResponse('', 'not JSON', ctx).details.field).toBe('');
  });
});
