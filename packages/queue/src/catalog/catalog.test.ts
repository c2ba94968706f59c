import { isDifferadError } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { JOB_NAMES, toQueueName } from './job-names.js';
import { parseJobId, toJobId } from './job-ids.js';
import { DEFAULT_JOB_SETTINGS, resolveJobSettings, toJobsOptions } from './job-settings.js';
import { parsePayload } from './parse-payload.js';
import type { RolloutPayload } from './payloads.js';

const rollout: RolloutPayload = {
  runId: 'run-7',
  step: 12,
  pairIndex: 3,
  pairId: 'mvtec/bottle/001',
  attempt: 0,
  seed: 42,
  weightVersion: 12,
};

function payloadError(run: () => unknown): { code: string; field: unknown; message: string } {
  try {
    run();
  } catch (error) {
    if (isDifferadError(error)) return { code: error.code, field: error.details.field, message: error.message };
    throw error;
  }
  throw new Error('expected a DifferadError');
}

describe('queue names', () => {
  it('are kebab-case without ":" and take a deployment namespace', () => {
    for (const name of JOB_NAMES) {
      expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(toQueueName(name, 'prod-a')).toBe(`prod-a-${name}`);
    }
    expect(toQueueName('rollout')).toBe('rollout');
  });

  it("are the four queues the orchestrator's workers consume, and no queue without a worker", () => {
    expect([...JOB_NAMES].sort()).toEqual(['resample', 'rollout', 'score', 'step']);
  });

  it('refuse a namespace that would put ":" or upper case into a queue name', () => {
    expect(payloadError(() => toQueueName('step', 'a:b')).code).toBe('QUEUE_NAMESPACE_INVALID');
    expect(payloadError(() => toQueueName('step', 'Prod')).code).toBe('QUEUE_NAMESPACE_INVALID');
  });
});

describe('job ids', () => {
  it('are deterministic by (run, step, pair, attempt) and free of ":"', () => {
    expect(toJobId('rollout', rollout)).toBe('rollout.run-7.s12.p3.a0');
    expect(toJobId('rollout', { ...rollout, seed: 99 })).toBe(toJobId('rollout', rollout));
    expect(toJobId('resample', { ...rollout, attempt: 2 })).toBe('resample.run-7.s12.p3.a2');
    expect(toJobId('rollout', { ...rollout, attempt: 1 })).not.toBe(toJobId('rollout', rollout));
    expect(toJobId('step', { runId: 'run-7', step: 12, pairCount: 8, weightVersion: 12 })).toBe('step.run-7.s12');
  });

  it('read back into their fields', () => {
    expect(parseJobId('score.run_1.s0.p7.a2')).toEqual({ name: 'score', runId: 'run_1', step: 0, pairIndex: 7, attempt: 2 });
    expect(parseJobId('sync.r.s4.v5')).toBeNull();
    expect(parseJobId('step.r.s4')).toEqual({ name: 'step', runId: 'r', step: 4 });
    expect(parseJobId('step.r.s4.p1.a0')).toBeNull();
    expect(parseJobId('rollout.r.s4')).toBeNull();
    expect(parseJobId('1234')).toBeNull();
  });
});

describe('job ids of a rerun step (round ≥ 1)', () => {
  it('differ from the first run of the step, so a retried or replayed step never finds its old jobs', () => {
    const step = { runId: 'run-7', step: 12, pairCount: 8, weightVersion: 12 };
    expect(toJobId('step', { ...step, round: 0 })).toBe('step.run-7.s12');
    expect(toJobId('step', { ...step, round: 2 })).toBe('step.run-7.s12.r2');
    expect(toJobId('rollout', { ...rollout, round: 1 })).toBe('rollout.run-7.s12.p3.a0.r1');
    expect(toJobId('score', { ...rollout, round: 1, completions: { kind: 'key', key: 'k' } })).toBe('score.run-7.s12.p3.a0.r1');
  });

  it('read back with their round', () => {
    expect(parseJobId('step.r.s4.r3')).toEqual({ name: 'step', runId: 'r', step: 4, round: 3 });
    expect(parseJobId('resample.r.s4.p1.a2.r1')).toEqual({ name: 'resample', runId: 'r', step: 4, pairIndex: 1, attempt: 2, round: 1 });
    expect(parseJobId('step.r.s4.r0')).toBeNull();
    expect(parseJobId('step.r.s4.r1.v5')).toBeNull();
  });
});

describe('payload validation', () => {
  it('accepts a valid payload and strips unknown keys', () => {
    expect(parsePayload('rollout', { ...rollout, extra: true })).toEqual(rollout);
  });

  it('names the field of a bad payload', () => {
    const bad = payloadError(() => parsePayload('rollout', { ...rollout, pairIndex: -1 }));
    expect(bad.code).toBe('QUEUE_PAYLOAD_INVALID');
    expect(bad.field).toBe('pairIndex');
    expect(bad.message).toContain('rollout payload invalid: pairIndex');
    expect(payloadError(() => parsePayload('rollout', { ...rollout, runId: 'a:b' })).field).toBe('runId');
    expect(payloadError(() => parsePayload('rollout', { ...rollout, step: 1.5 })).field).toBe('step');
  });

  it('requires attempt ≥ 1 for a resample', () => {
    expect(payloadError(() => parsePayload('resample', rollout)).field).toBe('attempt');
    expect(parsePayload('resample', { ...rollout, attempt: 1 }).attempt).toBe(1);
  });

  it('takes score completions by key or inline, with one log-prob per token', () => {
    const base = { runId: 'r', step: 0, pairIndex: 0, pairId: 'p', attempt: 0, weightVersion: 0 };
    expect(parsePayload('score', { ...base, completions: { kind: 'key', key: 'differad:run:r:group:0' } }).completions.kind).toBe('key');
    const completion = {
      text: '<answer>[1,2,3,4]</answer>',
      tokenIds: [1, 2],
      logprobs: [-0.1, -2],
      finishReason: 'stop',
      server: 'http://a',
      weightVersion: 0,
    };
    expect(parsePayload('score', { ...base, completions: { kind: 'inline', items: [completion] } }).completions.kind).toBe('inline');
    const mismatch = { ...completion, logprobs: [-0.1] };
    expect(payloadError(() => parsePayload('score', { ...base, completions: { kind: 'inline', items: [mismatch] } })).field).toBe(
      'completions.items.0.logprobs',
    );
    expect(payloadError(() => parsePayload('score', { ...base, completions: { kind: 'inline', items: [] } })).field).toBe(
      'completions.items',
    );
  });

  it('prefixes the field inside a larger input', () => {
    expect(payloadError(() => parsePayload('rollout', { ...rollout, seed: -1 }, 'rollouts.3')).field).toBe('rollouts.3.seed');
  });
});

describe('job settings', () => {
  it('retry every queue with exponential backoff and bounded retention', () => {
    for (const name of JOB_NAMES) {
      const opts = toJobsOptions(DEFAULT_JOB_SETTINGS[name], 'x.y');
      expect(opts.attempts).toBeGreaterThan(1);
      expect(opts.backoff).toEqual({ type: 'exponential', delay: DEFAULT_JOB_SETTINGS[name].backoffMs });
      expect(opts.removeOnComplete).toEqual(expect.objectContaining({ count: expect.any(Number), age: expect.any(Number) }));
      expect(opts.removeOnFail).toEqual(expect.objectContaining({ count: expect.any(Number) }));
    }
  });

  it('apply overrides to one queue only', () => {
    const settings = resolveJobSettings({ rollout: { attempts: 2, backoffMs: 5 } });
    expect(settings.rollout).toEqual({ ...DEFAULT_JOB_SETTINGS.rollout, attempts: 2, backoffMs: 5 });
    expect(settings.score).toEqual(DEFAULT_JOB_SETTINGS.score);
  });
});
