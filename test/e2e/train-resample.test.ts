import { join } from 'node:path';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { drawStepPairs, toSamplingSeed } from '@differad/core';
import { createCpuTrainer, type CpuTrainer } from '@differad/cpu-trainer';
import { loadManifest, resolveManifestPath } from '@differad/datasets';
import { createFramePreparer } from '@differad/images';
import { trainRun, type TrainRunResult } from '@differad/orchestrator';
import { type FakeVllmServer, hashImageUrl, startFakeVllm } from '@differad/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toTargetImage, useTrainFixture } from './train-harness.js';

/** Every completion is this one box in the top-left corner: the same answer G times, right on no pair (R_loc std 0, none = 1). */
const WRONG_ANSWER = '<think>The corner looks different.</think><answer>(0,0),(8,8)</answer>';
const MODEL = 'fake-constant';
const SEED = 11;

const fixture = useTrainFixture('differad-e2e-train-resample-', { redis: true });

/** sha256 of each training target as the rollout sends it → the pair ids with that target. */
const targetsById = new Map<string, string>();
let fake: FakeVllmServer | undefined;
let trainer: CpuTrainer | undefined;

beforeAll(async () => {
  const { data } = fixture;
  // The rollout sends each target resized and encoded by the run's frame preparer: the same bytes here.
  const preparer = createFramePreparer({ resize: TrainConfigSchema.parse({ data: { train: data.train } }).resize, format: 'png' });
  for (const record of (await loadManifest(data.train)).records) {
    const target = await preparer.prepareImage(resolveManifestPath(data.train, record.target));
    targetsById.set(record.id, hashImageUrl(target.dataUrl));
  }
}, 30_000);

afterEach(async () => {
  await fake?.close();
  await trainer?.close();
  fake = undefined;
  trainer = undefined;
});

interface SeenRequest {
  readonly seed: number;
  readonly target: string;
}

/** A constant-answer fake vLLM and a CPU trainer started here, and a run of `trainRun` against them on the test's Redis. */
async function runAgainstConstantServer(
  runId: string,
  grpo: Record<string, unknown>,
  steps: number,
): Promise<{ result: TrainRunResult; seen: SeenRequest[]; config: TrainConfig }> {
  fake = await startFakeVllm({
    model: MODEL,
    policy: 'constant',
    constantText: WRONG_ANSWER,
    slots: 256,
    tokensPerSecond: 20_000,
    prefillMsPerImage: 0,
  });
  const seen: SeenRequest[] = [];
  fake.on('request', ({ body }) => seen.push({ seed: body.seed as number, target: hashImageUrl(toTargetImage(body) ?? '') }));
  trainer = createCpuTrainer({ stateDir: join(fixture.dir, runId, 'trainer') });
  const { url: trainerUrl } = await trainer.start();
  const config = TrainConfigSchema.parse({
    run: { id: runId, steps, seed: SEED, runsDir: join(fixture.dir, 'runs') },
    data: { train: fixture.data.train },
    policy: { kind: 'endpoints', endpoints: [fake.url], model: MODEL },
    trainer: { kind: 'url', url: trainerUrl },
    grpo: { groupSize: 4, ...grpo },
  });
  const result = await trainRun({
    config,
    env: { DIFFERAD_REDIS_URL: fixture.redis.url },
    log: () => undefined,
    signal: new AbortController().signal,
  });
  return { result, seen, config };
}

describe('differad train against a constant-answer server: every group is degenerate', () => {
  it('keep: each pair is sampled 1 + maxResamples times, and resamples count exactly that', async () => {
    const pairsPerStep = 3;
    const steps = 2;
    const { result, seen, config } = await runAgainstConstantServer(
      'resample-keep',
      { pairsPerStep, maxResamples: 2, onExhausted: 'keep' },
      steps,
    );
    expect(result.state).toBe('completed');
    expect(result.rows.map((r) => r.step)).toEqual([0, 1]);
    for (const row of result.rows) {
      expect(row).toMatchObject({ frac_degenerate: 1, format_rate: 1, resamples: 2 * pairsPerStep, replacements: 0 });
    }
    // The server saw exactly the seeds of (step, slot, attempt 0..2), each once: (1 + 2) × pairsPerStep requests per step.
    const expected: number[] = [];
    for (let s = 0; s < steps; s++)
      for (let k = 0; k < pairsPerStep; k++) for (let a = 0; a <= 2; a++) expected.push(toSamplingSeed(SEED, s, k, a));
    expect(seen).toHaveLength((1 + 2) * pairsPerStep * steps);
    for (let s = 0; s < steps; s++) {
      const ofStep = new Set(Array.from({ length: pairsPerStep * 3 }, (_, i) => toSamplingSeed(SEED, s, Math.floor(i / 3), i % 3)));
      expect(seen.filter((r) => ofStep.has(r.seed))).toHaveLength((1 + 2) * pairsPerStep);
    }
    expect(seen.map((r) => r.seed).sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    // Every request was for a pair the steps drew: nothing was replaced.
    const records = (await loadManifest(config.data.train)).records;
    const drawn = new Set<string>();
    for (let s = 0; s < steps; s++)
      for (const i of drawStepPairs(SEED, s, pairsPerStep, records.length)) drawn.add(targetsById.get(records[i]!.id)!);
    for (const r of seen) expect(drawn.has(r.target)).toBe(true);
    // The step still applied (the CPU trainer masks text without sampled parameters as unscorable).
    expect(trainer!.stats()).toMatchObject({ optimSteps: steps, weightVersion: steps });
    expect(result.rows.map((r) => r.weight_version)).toEqual([1, 2]);
  }, 30_000);

  it('replace: exhausted pairs are replaced by fresh ones, each sampled 1 + maxResamples times, and the counts match', async () => {
    const pairsPerStep = 2;
    const maxResamples = 2;
    const { result, seen, config } = await runAgainstConstantServer(
      'resample-replace',
      { pairsPerStep, maxResamples, onExhausted: 'replace' },
      1,
    );
    expect(result.state).toBe('completed');
    const [row] = result.rows;
    const replacements = row!.replacements!;
    expect(replacements).toBeGreaterThan(0);
    // Every pair in a slot, first or replacement, is sampled 1 + maxResamples times.
    expect(seen).toHaveLength((1 + maxResamples) * (pairsPerStep + replacements));
    expect(row!.resamples).toBe(maxResamples * (pairsPerStep + replacements));
    expect(row!.frac_degenerate).toBe(1);
    // Fresh pairs: targets the step did not draw were requested.
    const records = (await loadManifest(config.data.train)).records;
    const drawn = new Set(drawStepPairs(SEED, 0, pairsPerStep, records.length).map((i) => targetsById.get(records[i]!.id)!));
    const requested = new Set(seen.map((r) => r.target));
    const fresh = [...requested].filter((t) => !drawn.has(t));
    expect(fresh.length).toBeGreaterThan(0);
    for (const t of requested) expect([...targetsById.values()]).toContain(t);
    expect(trainer!.stats()).toMatchObject({ optimSteps: 1, weightVersion: 1 });
  }, 30_000);
});

describe('a step whose job fails for good', () => {
  it('stops the run with the failed job and its reason, not only "child failed"', async () => {
    fake = await startFakeVllm({ model: MODEL, slots: 64, tokensPerSecond: 20_000, prefillMsPerImage: 0, faults: { malformedRate: 1 } });
    trainer = createCpuTrainer({ stateDir: join(fixture.dir, 'broken', 'trainer') });
    const { url: trainerUrl } = await trainer.start();
    const config = TrainConfigSchema.parse({
      run: { id: 'broken-answers', steps: 2, seed: SEED, runsDir: join(fixture.dir, 'runs') },
      data: { train: fixture.data.train },
      policy: { kind: 'endpoints', endpoints: [fake.url], model: MODEL },
      trainer: { kind: 'url', url: trainerUrl },
      grpo: { groupSize: 2, pairsPerStep: 2 },
    });
    const run = trainRun({
      config,
      env: { DIFFERAD_REDIS_URL: fixture.redis.url },
      log: () => undefined,
      signal: new AbortController().signal,
    });
    await expect(run).rejects.toMatchObject({
      code: 'TRAIN_STEP_FAILED',
      message: expect.stringMatching(/step 0 failed in rollout job .*INFERENCE_BAD_RESPONSE/),
    });
  });
});
