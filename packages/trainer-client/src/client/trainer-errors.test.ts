import { describe, expect, it } from 'vitest';
import { TrainerDeadlineExceeded, toTrainerBadResponse, toTrainerStatusError, toTrainerTransportError } from './trainer-errors.js';

const ctx = { url: 'http://t:8200', method: 'POST', path: '/v1/optim_step' };

describe('the one mapping of trainer transport and HTTP failures', () => {
  it.each([
    [new TrainerDeadlineExceeded(50), 'TRAINER_TIMEOUT'],
    [Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), 'TRAINER_TIMEOUT'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'TRAINER_UNAVAILABLE'],
    [Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), 'TRAINER_UNAVAILABLE'],
  ])('%s → %s, retryable, naming the call', (error, code) => {
    expect(toTrainerTransportError(error, ctx)).toMatchObject({ code, retryable: true, details: ctx });
  });

  it('turns a 4xx into TRAINER_REJECTED with the trainer\'s error body, not retried', () => {
    const body = { error: { code: 'TRAINER_STEP_INCOMPLETE', message: 'step 3 is missing micro-batches 1', details: { missing: [1] } } };
    const e = toTrainerStatusError(409, JSON.stringify(body), ctx);
    expect(e).toMatchObject({ code: 'TRAINER_REJECTED', retryable: false, details: { status: 409, error: body.error } });
    expect(e.message).toContain('TRAINER_STEP_INCOMPLETE');
    expect(toTrainerStatusError(400, 'plain text', ctx).details.error).toEqual({ code: 'TRAINER_UNKNOWN', message: 'plain text' });
  });

  it('turns 5xx, 408 and 429 into retryable TRAINER_HTTP_ERROR with a body excerpt', () => {
    expect(toTrainerStatusError(503, 'x'.repeat(2000), ctx)).toMatchObject({ code: 'TRAINER_HTTP_ERROR', retryable: true });
    expect(toTrainerStatusError(503, 'x'.repeat(2000), ctx).details.body).toHaveLength(500);
    expect(toTrainerStatusError(429, '', ctx).retryable).toBe(true);
    expect(toTrainerStatusError(408, '', ctx).code).toBe('TRAINER_HTTP_ERROR');
  });

  it('names the field of a bad response', () => {
    expect(toTrainerBadResponse('grad_norm', 'expected number', ctx)).toMatchObject({ code: 'TRAINER_BAD_RESPONSE', retryable: false, details: { field: 'grad_norm' } });
  });
});
