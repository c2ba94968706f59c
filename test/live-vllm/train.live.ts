// `differad train` end to end on the real stack: the live vLLM samples (policy.kind endpoints,
// family qwen2-vl), the Python trainer's hf backend trains with real transformers (trainer.kind url),
// and every step's weights go back by disk: the trainer's weights/send writes a Hugging Face folder
// (save_pretrained) that vLLM's collective_rpc reload_weights loads in place.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVllmControl, type VllmControl } from '@differad/inference';
import { syncWeights } from '@differad/orchestrator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
// The e2e harness: the real CLI, and training data made the way `npm run demo` makes it.
import { killStarted, makeTrainData, readMetricsFile, runDifferad, type TrainData, writeTrainConfig } from '../e2e/train-harness.js';
import { type HfTrainer, startHfTrainer } from './hf-trainer.js';

const live = inject('liveVllm');

/** Lines of vLLM's access log that are a successful `POST /collective_rpc` (the disk sync's reload). */
const countReloads = () =>
  readFileSync(live.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"POST /collective_rpc HTTP/1.1" 200')).length;

describe('live: differad train with vLLM and the hf trainer, synced by disk', () => {
  let control: VllmControl;
  let trainer: HfTrainer;
  let dir: string;
  let data: TrainData;

  beforeAll(async () => {
    control = createVllmControl({ url: live.url, timeoutMs: 120_000 });
    await syncWeights([{ url: live.url, control }], { version: 0, path: live.checkpoint });
    dir = mkdtempSync(join(tmpdir(), 'differad-live-train-'));
    [data, trainer] = await Promise.all([makeTrainData(dir, { train: 4, heldOut: 2 }), startHfTrainer(live, join(dir, 'trainer-state'))]);
  }, 400_000);

  afterAll(async () => {
    killStarted();
    await trainer?.stop();
    await syncWeights([{ url: live.url, control }], { version: 0, path: live.checkpoint }).catch(() => undefined);
    await control?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs 3 steps, each applied once, the starting weights and each step's followed by a reload of the folder the trainer wrote", async () => {
    const config = await writeTrainConfig(dir, 'live.yaml', {
      run: { id: 'live', steps: 3, seed: 3, runsDir: 'runs' },
      data: { train: data.train },
      policy: { kind: 'endpoints', endpoints: [live.url], model: live.model, family: 'qwen2-vl', frame: 'norm1000', syncBackend: 'disk' },
      trainer: { kind: 'url', url: trainer.url },
      optim: { lr: 1e-4, microBatchGroups: 1 },
      // Truncated answers kept in the loss: the tiny model rarely stops, and the trainer must score real tokens.
      grpo: { groupSize: 4, pairsPerStep: 2, maxResamples: 0, maskTruncated: false },
      sampling: { temperature: 0.9, maxTokens: 24 },
      resize: { minPixels: live.pixels.minPixels, maxPixels: live.pixels.maxPixels },
    });
    const reloadsBefore = countReloads();
    const t0 = performance.now();
    const result = await runDifferad(['train', '--config', config], { cwd: dir });
    const ms = performance.now() - t0;
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);

    const rows = await readMetricsFile(join(dir, 'runs', 'live', 'metrics.jsonl'));
    console.log(
      `live differad train: 3 steps in ${ms.toFixed(0)} ms; sync_ms ${rows.map((r) => r.sync_ms?.toFixed(0)).join(', ')}; train_ms ${rows.map((r) => r.train_ms?.toFixed(0)).join(', ')}; reward ${rows.map((r) => r.reward_mean).join(', ')}; loss ${rows.map((r) => r.loss).join(', ')}; grad_norm ${rows.map((r) => r.grad_norm).join(', ')}`,
    );
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.weight_version)).toEqual([1, 2, 3]);
    for (const row of rows) {
      // forward_backward scored the sampled tokens (a prompt that the processor built otherwise is a 422).
      expect(row.loss).toEqual(expect.any(Number));
      expect(row.grad_norm).toEqual(expect.any(Number));
    }
    const health = (await (await fetch(`${trainer.url}/v1/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ backend: 'hf', run: 'live', step: 2, weight_version: 3 });

    // The run pushes the trainer's starting weights (version 0) before step 0, then each step's:
    // one reload each, of a Hugging Face folder the trainer wrote.
    expect(countReloads() - reloadsBefore).toBe(4);
    const sent = readdirSync(trainer.weightsDir)
      .filter((d) => /^v\d{8}$/.test(d))
      .sort();
    expect(sent).toEqual(['v00000000', 'v00000001', 'v00000002', 'v00000003']);
    for (const v of sent) {
      for (const file of ['config.json', 'model.safetensors', 'processor_config.json'])
        expect(existsSync(join(trainer.weightsDir, v, file)), `${v}/${file}`).toBe(true);
    }
    expect(await control.isPaused()).toBe(false);
  });
});
