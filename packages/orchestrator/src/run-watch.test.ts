import { DifferadError } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { isRedisConnectionError } from './run-watch.js';

function errno(message: string, code: string): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect' });
}

describe('isRedisConnectionError', () => {
  it("takes this process's own socket errors and ioredis's connection errors for a lost Redis, also as a cause", () => {
    expect(isRedisConnectionError(errno('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'))).toBe(true);
    expect(isRedisConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(
      isRedisConnectionError(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })),
    ).toBe(true);
    const wrapped = new DifferadError('TRAIN_STEP_FAILED', 'step 3 failed', { cause: errno('write EPIPE', 'EPIPE') });
    expect(isRedisConnectionError(wrapped)).toBe(true);
  });

  it('does not take a step that failed on an unreachable inference server for a lost Redis', () => {
    // What BullMQ hands back for a failed job: its failure text, no errno code.
    const jobFailure = new Error(
      'SYNC_TOO_FEW_SERVERS: 1 of 2 servers hold the weights; http://127.0.0.1:41233: connect ECONNREFUSED 127.0.0.1:41233',
    );
    expect(isRedisConnectionError(jobFailure)).toBe(false);
    expect(
      isRedisConnectionError(new DifferadError('TRAIN_STEP_FAILED', 'step 1 failed: fetch failed: ECONNRESET', { cause: jobFailure })),
    ).toBe(false);
    expect(isRedisConnectionError('ECONNREFUSED')).toBe(false);
  });
});
