import { describe, expect, it } from 'vitest';
import { TrainConfigSchema } from './train-config.js';

const data = { train: 'train.jsonl' };

describe('policy.minServers', () => {
  it('defaults to 1 for both policy kinds', () => {
    expect(TrainConfigSchema.parse({ data }).policy.minServers).toBe(1);
    expect(
      TrainConfigSchema.parse({ data, policy: { kind: 'endpoints', endpoints: ['http://a:8000'], model: 'm' } }).policy.minServers,
    ).toBe(1);
  });

  it('may be as many as the servers, not more', () => {
    const endpoints = ['http://a:8000', 'http://b:8000'];
    expect(TrainConfigSchema.parse({ data, policy: { kind: 'endpoints', endpoints, model: 'm', minServers: 2 } }).policy.minServers).toBe(
      2,
    );
    const tooMany = TrainConfigSchema.safeParse({ data, policy: { kind: 'endpoints', endpoints, model: 'm', minServers: 3 } });
    expect(tooMany.success).toBe(false);
    expect(tooMany.error?.issues[0]).toMatchObject({
      path: ['policy', 'minServers'],
      message: expect.stringContaining('cannot exceed the number of inference servers'),
    });
    expect(TrainConfigSchema.safeParse({ data, policy: { kind: 'cpu', servers: 2, minServers: 3 } }).success).toBe(false);
    expect(TrainConfigSchema.safeParse({ data, policy: { kind: 'cpu', minServers: 0 } }).success).toBe(false);
  });
});
