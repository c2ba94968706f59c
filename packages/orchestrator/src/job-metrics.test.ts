import { EventEmitter } from 'node:events';
import { createMetrics } from '@differad/metrics';
import { UnrecoverableError } from 'bullmq';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRunForgetter, isFinalFailure, type ObservedWorker, observeJobs } from './job-metrics.js';

const sample = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

describe('job metrics', () => {
  afterEach(() => vi.useRealTimers());

  it('a failed attempt is final when attempts ran out or the error is unrecoverable (attemptsMade already counts it, as BullMQ emits failed)', () => {
    const retryable = new Error('ORCHESTRATOR_GROUP_MISSING: later');
    expect(isFinalFailure({ attemptsMade: 1, opts: { attempts: 3 } }, retryable)).toBe(false);
    expect(isFinalFailure({ attemptsMade: 3, opts: { attempts: 3 } }, retryable)).toBe(true);
    expect(isFinalFailure({ attemptsMade: 1, opts: {} }, retryable)).toBe(true);
    expect(isFinalFailure({ attemptsMade: 1, opts: { attempts: 3 } }, new UnrecoverableError('SYNC_TOO_FEW_SERVERS: no'))).toBe(true);
  });

  it('counts completions with their processing time, retries and final failures by the code in front of the message', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const worker = Object.assign(new EventEmitter(), { name: 'rollout' }) as unknown as ObservedWorker & EventEmitter;
    observeJobs(worker, metrics);
    worker.emit('completed', { processedOn: 1_000, finishedOn: 3_500 });
    worker.emit('failed', { attemptsMade: 1, opts: { attempts: 3 } }, new Error('INFERENCE_TIMEOUT: slow'));
    worker.emit('failed', { attemptsMade: 1, opts: { attempts: 3 } }, new UnrecoverableError('ORCHESTRATOR_PAIR_UNKNOWN: gone'));
    worker.emit('failed', undefined, new Error('plain'));
    const text = await metrics.expose();
    expect(sample(text, 'differad_jobs_completed_total{queue="rollout"}')).toBe(1);
    expect(sample(text, 'differad_job_duration_seconds_sum{queue="rollout"}')).toBe(2.5);
    expect(sample(text, 'differad_job_retries_total{queue="rollout",code="INFERENCE_TIMEOUT"}')).toBe(1);
    expect(sample(text, 'differad_jobs_failed_total{queue="rollout",code="ORCHESTRATOR_PAIR_UNKNOWN"}')).toBe(1);
    expect(sample(text, 'differad_jobs_failed_total{queue="rollout",code="UNKNOWN"}')).toBe(1);
  });

  it("forgets a run's series a while after its last step, unless another step of it starts first", () => {
    vi.useFakeTimers();
    const forgetRun = vi.fn();
    const forgetter = createRunForgetter({ forgetRun }, 1_000);
    forgetter.lastStepDone('a');
    forgetter.lastStepDone('b');
    vi.advanceTimersByTime(500);
    forgetter.stepStarted('b');
    vi.advanceTimersByTime(1_000);
    expect(forgetRun.mock.calls).toEqual([['a']]);
    forgetter.lastStepDone('c');
    forgetter.close();
    vi.advanceTimersByTime(2_000);
    expect(forgetRun).toHaveBeenCalledTimes(1);
  });
});
