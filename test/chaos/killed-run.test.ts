import { join } from 'node:path';
import { toSamplingSeed } from '@differad/core';
import { createRunStore } from '@differad/queue';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, readMetricsFile, startDifferad, useTrainFixture, writeTrainConfig } from '../e2e/train-harness.js';
import { exitWithin } from './chaos-harness.js';

const MODEL = 'fake-noisy';
const PAIRS = 3;

const fixture = useTrainFixture('differad-chaos-killed-', { redis: true });
let fake: FakeVllmServer;

beforeAll(async () => {
  // ~40 tokens at 100 tokens/s: each request is in flight for a few hundred ms, long enough to die in.
  fake = await startFakeVllm({ model: MODEL, policy: 'noisy', slots: 64, tokensPerSecond: 100, prefillMsPerImage: 1 });
}, 30_000);

afterAll(async () => {
  await fake?.close();
});

/** Starts run `id` on the fake and SIGKILLs it while step 1's rollouts are in flight (their jobs active and locked); resolves at the kill. */
async function killMidStep(id: string, seed: number, env: Readonly<Record<string, string>>, maxStaleness = 0): Promise<number> {
  const config = await writeTrainConfig(fixture.dir, `${id}.yaml`, {
    run: { id, steps: 3, seed, runsDir: 'runs' },
    data: { train: fixture.data.train },
    policy: { kind: 'endpoints', endpoints: [fake.url], model: MODEL },
    trainer: { kind: 'cpu' },
    grpo: { groupSize: 4, pairsPerStep: PAIRS, maxResamples: 0, maxStaleness },
  });
  // Step 1's first request of this run, told by its seed (the Redis is shared: another run's jobs may be served too).
  const step1Seeds = new Set(Array.from({ length: PAIRS }, (_, k) => toSamplingSeed(seed, 1, k, 0)));
  const step1 = fake.next('request', ({ body }) => step1Seeds.has(body.seed as number));
  const train = startDifferad(['train', '--config', config], { cwd: fixture.dir, env });
  await step1;
  expect((await createRunStore(fixture.client).loadRun(id))?.state).toBe('running');
  process.kill(train.pid, 'SIGKILL');
  const killedAt = Date.now();
  expect((await train.exited).signal).toBe('SIGKILL');
  return killedAt;
}

describe('differad train SIGKILLed mid-step', () => {
  it('the run reads as interrupted (not running) within the heartbeat lifetime, with how to resume it', async () => {
    const store = createRunStore(fixture.client);
    const killedAt = await killMidStep('dead', 6, { DIFFERAD_REDIS_URL: fixture.redis.url });
    const interrupted = await pollUntil(
      'the run to read as interrupted',
      async () => {
        const run = await store.loadRun('dead');
        return run?.state === 'interrupted' ? run : undefined;
      },
      8_000,
    );
    console.info(`killed run reads as interrupted after ${Date.now() - killedAt} ms`);
    expect(interrupted).toMatchObject({ lastCompletedStep: 0, message: expect.stringContaining('differad train --resume dead') });
  }, 60_000);

  // Overlapped too: there step 1's rollouts run while step 0 trains, so the kill may find step 0 unfinished and step 1 queued ahead.
  it.each([
    { maxStaleness: 0, id: 'killed' },
    { maxStaleness: 1, id: 'killed-ovl' },
  ])(
    '--resume right after the kill takes the dead process’s jobs over within seconds with the default lock (grpo.maxStaleness $maxStaleness)',
    async ({ maxStaleness, id }) => {
      const env = { DIFFERAD_REDIS_URL: fixture.redis.url };
      await killMidStep(id, 7, env, maxStaleness);
      const resumedAt = Date.now();
      const resumed = startDifferad(['train', '--resume', id, '--runs-dir', 'runs'], { cwd: fixture.dir, env });
      const exit = await exitWithin(resumed, 15_000, resumedAt);
      console.info(`resume right after SIGKILL with the default lock: ${exit.ms} ms`);
      expect(exit.code, `${resumed.stdout()}\n${resumed.stderr()}`).toBe(0);
      // Its heartbeat had not expired yet: the dead PID says it is gone.
      expect(resumed.stderr()).toMatch(new RegExp(`run ${id} was interrupted \\(process \\d+ is gone\\)`));
      const rows = await readMetricsFile(join(fixture.dir, 'runs', id, 'metrics.jsonl'));
      expect(rows.map((r) => [r.step, r.weight_version])).toEqual([
        [0, 1],
        [1, 2],
        [2, 3],
      ]);
      expect(await createRunStore(fixture.client).loadRun(id)).toMatchObject({ state: 'completed', lastCompletedStep: 2 });
    },
    60_000,
  );
});
