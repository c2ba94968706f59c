import { join } from 'node:path';
import { toSamplingSeed } from '@differad/core';
import { createCpuTrainer, type CpuTrainer } from '@differad/cpu-trainer';
import { createRunStore } from '@differad/queue';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetricsFile, startDifferad, useTrainFixture, writeTrainConfig } from './train-harness.js';

const MODEL = 'fake-noisy';
const SEED = 3;

const fixture = useTrainFixture('differad-e2e-train-kill-', { redis: true });

// The on-policy loop and the overlapped one (rollouts of the next step run while a step trains, docs/architecture.md §4.7).
describe.each([{ maxStaleness: 0 }, { maxStaleness: 1 }])(
  'differad worker SIGKILLed mid-step (grpo.maxStaleness $maxStaleness)',
  ({ maxStaleness }) => {
    let fake: FakeVllmServer;
    let trainer: CpuTrainer;
    let trainerUrl: string;
    const runId = `kill-${maxStaleness}`;

    beforeAll(async () => {
      // ~40 tokens at 100 tokens/s: each request is in flight for a few hundred ms, long enough to die in.
      fake = await startFakeVllm({ model: MODEL, policy: 'noisy', slots: 64, tokensPerSecond: 100, prefillMsPerImage: 1 });
      trainer = createCpuTrainer({ stateDir: join(fixture.dir, `trainer-${maxStaleness}`) });
      trainerUrl = (await trainer.start()).url;
    }, 30_000);

    afterAll(async () => {
      await fake?.close();
      await trainer?.close();
    });

    it('a second worker takes the dead one’s jobs over and every step is applied exactly once', async () => {
      const steps = 3;
      const pairsPerStep = 3;
      const config = await writeTrainConfig(fixture.dir, `${runId}.yaml`, {
        run: { id: runId, steps, seed: SEED, runsDir: 'runs' },
        data: { train: fixture.data.train },
        policy: { kind: 'endpoints', endpoints: [fake.url], model: MODEL },
        trainer: { kind: 'url', url: trainerUrl },
        grpo: { groupSize: 4, pairsPerStep, maxResamples: 0, maxStaleness },
      });
      const env = { DIFFERAD_REDIS_URL: fixture.redis.url };
      const seeds: number[] = [];
      fake.on('request', ({ body }) => seeds.push(body.seed as number));
      // With no resampling a step is exactly pairsPerStep requests: the next one is step 1's, sent by worker 1.
      const step1Requested = fake.next('request', () => seeds.length === pairsPerStep + 1);

      const train = startDifferad(['train', '--config', config, '--no-workers'], { cwd: fixture.dir, env });
      const first = startDifferad(['worker', '--lock-ms', '2000'], { cwd: fixture.dir, env });
      await first.waitFor(/worker serving the training queues/);
      await step1Requested;
      process.kill(first.pid, 'SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      const abortedAtKill = await pollAborted(fake);
      expect(abortedAtKill).toBeGreaterThan(0);

      const second = startDifferad(['worker', '--lock-ms', '2000'], { cwd: fixture.dir, env });
      const done = await train.exited;
      expect(done.code, `${train.stdout()}\n${train.stderr()}\n${second.stderr()}`).toBe(0);
      expect(train.stdout()).toContain(`run ${runId} completed: ${steps} step(s)`);

      // Exactly once: the trainer applied 3 optimizer steps, the rows are unique per step, the versions consecutive.
      expect(trainer.stats()).toMatchObject({ optimSteps: steps, weightVersion: steps, step: steps - 1 });
      const rows = await readMetricsFile(join(fixture.dir, 'runs', runId, 'metrics.jsonl'));
      expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
      expect(rows.map((r) => r.weight_version)).toEqual([1, 2, 3]);
      const store = createRunStore(fixture.client);
      expect(await store.loadRun(runId)).toMatchObject({ state: 'completed', lastCompletedStep: 2, weightVersion: 3 });
      expect((await store.readMetrics(runId)).map((m) => m.step)).toEqual([0, 1, 2]);
      // Overlapped: every completion trained was sampled at most one version behind, and each counted once.
      if (maxStaleness > 0) for (const r of rows) expect(Number(r.staleness_0) + Number(r.staleness_1)).toBe(pairsPerStep * 4);
      // Step 1's rollouts the dead worker held were sampled again by the second one: its seeds appear twice.
      const step1 = Array.from({ length: pairsPerStep }, (_, k) => toSamplingSeed(SEED, 1, k, 0));
      const repeated = step1.filter((s) => seeds.filter((x) => x === s).length > 1);
      expect(repeated.length).toBeGreaterThan(0);
      // One reload per step, after the starting weights pushed before step 0.
      expect(fake.stats().weightVersion).toBe(steps + 1);

      process.kill(second.pid, 'SIGTERM');
      expect((await second.exited).code).toBe(0);
    }, 45_000);
  },
);

/** The fake notices a dead client when the socket closes, a moment after the kill. */
function pollAborted(server: FakeVllmServer): Promise<number> {
  if (server.stats().aborted > 0) return Promise.resolve(server.stats().aborted);
  return server.next('done', (e) => e.outcome === 'aborted').then(() => server.stats().aborted);
}
