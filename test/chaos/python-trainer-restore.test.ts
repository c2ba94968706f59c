/**
 * The Python trainer (docker/trainer, tiny backend) SIGKILLed after step 1 and
 * started again on its port and state folder: it comes back at its starting
 * weights, and the run must still reproduce a reference run row for row
 * (docs/architecture.md §4.4).
 */
import { join } from 'node:path';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { trainRun, type TrainRunResult } from '@differad/orchestrator';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { pythonTrainerMissing, startPythonTrainer } from '../e2e/python-trainer.js';
import { findClosedPort, readMetricsFile, useTrainFixture } from '../e2e/train-harness.js';
import { stepRow, withoutTimings } from './trainer-chaos.js';

const missing = pythonTrainerMissing();
const fixture = useTrainFixture('differad-chaos-py-restore-', { redis: true, counts: { train: 6 } });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startTrainer(name: string, port: number): Promise<ReturnType<typeof startPythonTrainer>> {
  const trainer = startPythonTrainer(join(fixture.dir, 'trainers', name), port);
  cleanups.push(() => trainer.stop());
  await trainer.url;
  return trainer;
}

function toConfig(runId: string, fake: FakeVllmServer, trainerUrl: string): TrainConfig {
  return TrainConfigSchema.parse({
    run: { id: runId, steps: 4, seed: 5, runsDir: join(fixture.dir, 'runs') },
    data: { train: fixture.data.train },
    policy: { kind: 'endpoints', endpoints: [fake.url], model: fake.model, syncBackend: 'disk' },
    trainer: { kind: 'url', url: trainerUrl },
    grpo: { groupSize: 4, pairsPerStep: 2, maxResamples: 1 },
    optim: { lr: 0.001, microBatchGroups: 1 },
  });
}

const env = () => ({ DIFFERAD_REDIS_URL: fixture.redis.url });

async function rowsOf(runId: string): Promise<Record<string, number | null>[]> {
  return (await readMetricsFile(join(fixture.dir, 'runs', runId, 'metrics.jsonl'))).map(withoutTimings);
}

describe('a Python trainer killed after step 1 and restarted on its state folder', () => {
  it('is put back on its checkpoint (or the run stops resumably and --resume does it): rows equal the reference, weight_version = step + 1', async () => {
    if (missing) expect.fail(missing);
    const fake = await startFakeVllm({ slots: 64, tokensPerSecond: 100_000, prefillMsPerImage: 0 });
    cleanups.push(() => fake.close());
    const refPort = await findClosedPort();
    const ref = await startTrainer('ref', refPort);
    expect(
      (
        await trainRun({
          config: toConfig('py-ref', fake, `http://127.0.0.1:${refPort}`),
          env: env(),
          log: () => undefined,
          signal: new AbortController().signal,
        })
      ).state,
    ).toBe('completed');
    await ref.stop();
    const expected = await rowsOf('py-ref');

    const port = await findClosedPort();
    const first = await startTrainer('chaos', port);
    let restarted: Promise<unknown> | null = null;
    const lines: string[] = [];
    const log = (line: string) => {
      lines.push(line);
      if (restarted !== null || !stepRow(1).test(line)) return;
      first.child.kill('SIGKILL');
      restarted = new Promise((resolve) => first.child.once('exit', resolve)).then(() => startTrainer('chaos', port));
    };
    const outcome: TrainRunResult | Error = await trainRun({
      config: toConfig('py-chaos', fake, `http://127.0.0.1:${port}`),
      env: env(),
      log,
      signal: new AbortController().signal,
    }).catch((error: Error) => error);
    await restarted;
    if (outcome instanceof Error) {
      // Stopped loudly, never trained on: continued once the trainer is back.
      expect(outcome.message).toContain('differad train --resume py-chaos');
      const resumed = await trainRun({
        resumeRunId: 'py-chaos',
        runsDir: join(fixture.dir, 'runs'),
        env: env(),
        log: (l) => lines.push(l),
        signal: new AbortController().signal,
      });
      expect(resumed.state).toBe('completed');
    } else {
      expect(outcome.state).toBe('completed');
    }
    const rows = await rowsOf('py-chaos');
    expect(rows.map((r) => r.weight_version)).toEqual([1, 2, 3, 4]);
    expect(rows).toEqual(expected);
    expect(lines.join('\n')).toContain('trainer: loaded checkpoint of step 1 (weight version 2)');
  }, 90_000);
});
