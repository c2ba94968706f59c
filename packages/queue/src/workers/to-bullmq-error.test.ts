import { DifferadError } from '@differad/core';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { parseFailedReason, toBullmqError } from './to-bullmq-error.js';

describe('toBullmqError', () => {
  it('turns a non-retryable DifferadError into UnrecoverableError carrying the code', () => {
    const mapped = toBullmqError(new DifferadError('IMAGE_DECODE_FAILED', 'bad png'));
    expect(mapped).toBeInstanceOf(UnrecoverableError);
    expect(parseFailedReason((mapped as Error).message)).toEqual({ code: 'IMAGE_DECODE_FAILED', message: 'bad png' });
  });

  it('keeps a retryable one retryable, with the code in the message', () => {
    const mapped = toBullmqError(new DifferadError('INFERENCE_TIMEOUT', 'slow', { retryable: true }));
    expect(mapped).not.toBeInstanceOf(UnrecoverableError);
    expect((mapped as Error).message).toBe('INFERENCE_TIMEOUT: slow');
  });

  it('passes other errors through', () => {
    const error = new TypeError('x');
    expect(toBullmqError(error)).toBe(error);
    expect(parseFailedReason('plain: failure')).toEqual({ code: null, message: 'plain: failure' });
    expect(parseFailedReason(undefined)).toEqual({ code: null, message: '' });
  });
});
