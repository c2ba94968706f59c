/**
 * The full training loop with the GPU-path components replaced by their
 * stand-ins: the fake vLLM server answers, the Python trainer (docker/trainer,
 * `tiny` backend) trains, and weights go back to the server through the disk
 * backend's weight-transfer calls.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { trainRun } from '@differad/orchestrator';
import { type FakeVllmServer, startFakeVllm } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonTrainerMissing, startPythonTrainer } from './python-trainer.js';
import { runCli } from './run-cli.js';

const missing = pythonTrainerMissing();

describe('training with the fake vLLM and the Python trainer', () => {
  let dir: string;
  let fake: FakeVllmServer;
  let trainer: ReturnType<typeof startPythonTrainer>;
  let trainerUrl: string;

  beforeAll(async () => {
    if (missing) return;
    dir = await mkdtemp(join(tmpdir(), 'differad-py-loop-'));
    expect((await runCli(['example', '--out', join(dir, 'products'), '--pairs', '6', '--normals-only'])).code).toBe(0);
    const synth = await runCli([
      'synth',
      '--normals',
      join(dir, 'products', 'normals'),
      '--out',
      join(dir, 'train'),
      '--count',
      '4',
      '--size',
      '96',
      '--seed',
      '3',
    ]);
    expect(synth.code).toBe(0);
    fake = await startFakeVllm({ slots: 64, tokensPerSecond: 100_000, prefillMsPerImage: 0 });
    trainer = startPythonTrainer(join(dir, 'trainer'));
    trainerUrl = await trainer.url;
  }, 120_000);

  afterAll(async () => {
    if (missing) return;
    await fake?.close();
    await trainer?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('trains three steps, each applied once, syncs the weights, and sends revisited images by hash only', async () => {
    if (missing) expect.fail(missing);
    const config = TrainConfigSchema.parse({
      run: { id: 'py-loop', steps: 3, seed: 5, runsDir: join(dir, 'runs') },
      data: { train: join(dir, 'train', 'manifest.jsonl') },
      policy: { kind: 'endpoints', endpoints: [fake.url], model: fake.model, syncBackend: 'disk' },
      trainer: { kind: 'url', url: trainerUrl },
      grpo: { groupSize: 4, pairsPerStep: 2, maxResamples: 1 },
      optim: { lr: 0.001, microBatchGroups: 1 },
    });
    const lines: string[] = [];
    const result = await trainRun({ config, env: {}, log: (l) => lines.push(l), signal: new AbortController().signal });
    expect(result.state).toBe('completed');
    // 4 pairs, 2 per step: step 2 revisits pairs whose images the trainer already holds (sent by hash only).
    expect(result.rows.map((r) => r.weight_version)).toEqual([1, 2, 3]);
    // Each step's weights reached the inference server through update_weights, after the starting weights pushed before step 0.
    expect(fake.stats().weightVersion).toBe(4);
    const rows = (await readFile(join(dir, 'runs', 'py-loop', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
    for (const row of rows) {
      expect(row.loss).toEqual(expect.any(Number));
      expect(row.grad_norm).toBeGreaterThan(0);
      expect(row.sync_ms).toBeGreaterThanOrEqual(0);
    }
    const health = await (await fetch(`${trainerUrl}/v1/health`)).json();
    expect(health).toMatchObject({ run: 'py-loop', step: 2, weight_version: 3 });
  }, 120_000);
});
