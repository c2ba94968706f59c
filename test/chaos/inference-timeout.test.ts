import { join } from 'node:path';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetricsFile, startDifferad, useTrainFixture, writeTrainConfig } from '../e2e/train-harness.js';
import { exitWithin } from './chaos-harness.js';

const MODEL = 'fake-noisy';

const fixture = useTrainFixture('differad-chaos-timeout-', { redis: true });
let hung: FakeVllmServer;
let healthy: FakeVllmServer;

beforeAll(async () => {
  // Every chat request to `hung` is accepted and never answered.
  hung = await startFakeVllm({ model: MODEL, slots: 64, tokensPerSecond: 2_000, faults: { hangRate: 1 } });
  healthy = await startFakeVllm({ model: MODEL, slots: 64, tokensPerSecond: 2_000, prefillMsPerImage: 1 });
}, 30_000);

afterAll(async () => {
  await hung?.close();
  await healthy?.close();
});

describe('differad train with an inference server that hangs', () => {
  it('policy.requestTimeoutMs 1000: a hung request is given up after ~1 s and its group sampled on the other server, not after 120 s', async () => {
    const config = await writeTrainConfig(fixture.dir, 'hang.yaml', {
      run: { id: 'hang', steps: 2, seed: 4, runsDir: 'runs' },
      data: { train: fixture.data.train },
      policy: { kind: 'endpoints', endpoints: [hung.url, healthy.url], model: MODEL, requestTimeoutMs: 1_000 },
      trainer: { kind: 'cpu' },
      grpo: { groupSize: 4, pairsPerStep: 4, maxResamples: 0 },
    });
    const started = Date.now();
    const train = startDifferad(['train', '--config', config], { cwd: fixture.dir, env: { DIFFERAD_REDIS_URL: fixture.redis.url } });
    const exit = await exitWithin(train, 20_000, started);
    console.info(
      `two steps with a hung server: ${exit.ms} ms; requests hung ${hung.stats().hung}, answered elsewhere ${healthy.stats().completed}`,
    );
    expect(exit.code, `${train.stdout()}\n${train.stderr()}`).toBe(0);
    // The hung server did get requests and answered none; their groups were answered by the other.
    expect(hung.stats().received).toBeGreaterThan(0);
    expect(hung.stats()).toMatchObject({ hung: hung.stats().received, completed: 0 });
    expect(healthy.stats().completed).toBeGreaterThanOrEqual(2 * 4);
    const rows = await readMetricsFile(join(fixture.dir, 'runs', 'hang', 'metrics.jsonl'));
    expect(rows.map((r) => r.step)).toEqual([0, 1]);
    // A step that met a hung request took about the timeout plus a backoff, not minutes.
    for (const row of rows) expect(row.rollout_ms).toBeLessThan(5_000);
  }, 60_000);
});
