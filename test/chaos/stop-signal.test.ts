import { join } from 'node:path';
import { createRunStore } from '@differad/queue';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetricsFile, runDifferad, startDifferad, useTrainFixture, writeTrainConfig } from '../e2e/train-harness.js';
import { exitWithin, stepRow } from './chaos-harness.js';

const MODEL = 'fake-noisy';
const PAIRS = 3;

const fixture = useTrainFixture('differad-chaos-signal-', { redis: true });
let fake: FakeVllmServer;

beforeAll(async () => {
  fake = await startFakeVllm({ model: MODEL, policy: 'noisy', slots: 64, tokensPerSecond: 400, prefillMsPerImage: 1 });
}, 30_000);

afterAll(async () => {
  await fake?.close();
});

describe('differad train stopped by a signal', () => {
  it('SIGTERM once during a step whose requests take minutes: exits 130 within 5 s, the run paused and resumable with the default lock', async () => {
    const config = await writeTrainConfig(fixture.dir, 'sig.yaml', {
      run: { id: 'sig', steps: 3, seed: 9, runsDir: 'runs' },
      data: { train: fixture.data.train },
      policy: { kind: 'endpoints', endpoints: [fake.url], model: MODEL },
      trainer: { kind: 'cpu' },
      grpo: { groupSize: 4, pairsPerStep: PAIRS, maxResamples: 0 },
    });
    const env = { DIFFERAD_REDIS_URL: fixture.redis.url };
    // With no resampling a step is exactly PAIRS requests. From step 1's first on, requests take ~1000× as long
    // (set before the fake applies its faults to that request): the step is in flight for minutes.
    let requests = 0;
    const step1 = fake.next('request', () => {
      if (++requests !== PAIRS + 1) return false;
      fake.setFaults({ slowFactor: 1000 });
      return true;
    });
    const train = startDifferad(['train', '--config', config], { cwd: fixture.dir, env });
    await step1;
    await train.waitFor(stepRow(0));
    const signalledAt = Date.now();
    process.kill(train.pid, 'SIGTERM');
    const exit = await exitWithin(train, 5_000, signalledAt);
    console.info(`SIGTERM during a step: differad train exited ${exit.code} after ${exit.ms} ms`);
    expect(exit.code, train.stderr()).toBe(130);
    expect(train.stderr()).toContain('continue with: differad train --resume sig');
    const store = createRunStore(fixture.client);
    expect(await store.loadRun('sig')).toMatchObject({ state: 'paused', lastCompletedStep: 0 });

    // Resumable: the abandoned step-1 jobs are taken over once their locks (run.lockMs, 5 s) expire.
    fake.setFaults({ slowFactor: 1 });
    const started = Date.now();
    const resumed = await runDifferad(['train', '--resume', 'sig', '--runs-dir', 'runs'], { cwd: fixture.dir, env });
    console.info(`resume after SIGTERM: ${Date.now() - started} ms`);
    expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    const rows = await readMetricsFile(join(fixture.dir, 'runs', 'sig', 'metrics.jsonl'));
    expect(rows.map((r) => [r.step, r.weight_version])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  }, 60_000);
});
