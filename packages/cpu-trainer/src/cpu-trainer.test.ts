import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeAdvantages,
  computePolicyLogProb,
  createRng,
  DEFAULT_CPU_POLICY,
  formatPolicySample,
  type GaussianPolicy,
  GaussianPolicySchema,
  isDifferadError,
  parsePolicySample,
  samplePolicy,
} from '@differad/core';
import { startServer } from '@differad/http-server';
import { CONTRACT_LOSS, createTrainerClient, type Group, type TrainerClient } from '@differad/trainer-client';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CpuTrainer, createCpuTrainer } from './cpu-trainer.js';
import { CpuCheckpointSchema } from './storage/state-files.js';

let stateDir: string;
let trainer: CpuTrainer;
let client: TrainerClient;

async function startTrainer(options: { initialPolicy?: GaussianPolicy; maxBodyBytes?: number } = {}): Promise<string> {
  trainer = createCpuTrainer({ stateDir, ...options });
  const { url } = await trainer.start();
  client = createTrainerClient({ baseUrl: url, timeoutMs: 10_000 });
  return url;
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'differad-cpu-trainer-test-'));
});
afterEach(async () => {
  await client?.close();
  await trainer?.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** G completions sampled from `policy` in the CPU policy's convention, with the given rewards turned into advantages. */
function toGroup(policy: GaussianPolicy, seed: number, reward: (threshold: number) => number, g = 8): Group {
  const rng = createRng(seed);
  const texts = Array.from(
    { length: g },
    () => `<think>${formatPolicySample(samplePolicy(rng, policy, 1))}</think><answer>(0,0),(0,0)</answer>`,
  );
  const samples = texts.map((t) => parsePolicySample(t, policy)!);
  const advantages = computeAdvantages(samples.map((s) => reward(s.threshold!)));
  return {
    images: [],
    messages: [{ role: 'user', content: 'box the anomaly' }],
    prompt_token_ids: null,
    completions: texts.map((text, i) => ({
      text,
      token_ids: [0],
      sampling_logprobs: [computePolicyLogProb(policy, samples[i]!)],
      advantage: advantages[i]!,
      weight: 1,
      truncated: false,
    })),
  };
}

async function currentPolicy(): Promise<GaussianPolicy> {
  const { weight_version } = await client.health();
  const sent = await client.sendWeights({ version: weight_version, backend: 'disk' });
  return GaussianPolicySchema.parse(JSON.parse(await readFile(sent.path!, 'utf8')));
}

describe('the CPU trainer', () => {
  it('learns: GRPO steps through the API move the threshold towards the rewarded value', async () => {
    await startTrainer();
    const reward = (threshold: number) => -Math.abs(threshold - 0.3);
    let policy = await currentPolicy();
    for (let step = 0; step < 40; step++) {
      await client.forwardBackward({
        run: 'learn',
        step,
        micro_batch: 0,
        micro_batches: 1,
        loss: CONTRACT_LOSS,
        groups: [toGroup(policy, step, reward), toGroup(policy, 1000 + step, reward)],
      });
      await client.optimStep({ run: 'learn', step, lr: 0.02 });
      policy = await currentPolicy();
    }
    expect(policy.version).toBe(40);
    expect(DEFAULT_CPU_POLICY.params.threshold!.mean).toBeCloseTo(0.16, 9);
    expect(Math.abs(policy.params.threshold!.mean - 0.3)).toBeLessThan(0.05);
  });

  it('masks completions without sampled values (unscorable) and keeps truncated ones when told to', async () => {
    await startTrainer();
    const group = toGroup(DEFAULT_CPU_POLICY, 1, (t) => t);
    group.completions[0] = { ...group.completions[0]!, text: '<think>threshold=0.2 only</think>' };
    group.completions[1] = { ...group.completions[1]!, truncated: true };
    const reply = await client.forwardBackward({
      run: 'r',
      step: 0,
      micro_batch: 0,
      micro_batches: 1,
      loss: { ...CONTRACT_LOSS, mask_truncated: false },
      groups: [group],
    });
    expect(reply).toMatchObject({ sequences: 7, tokens: 7, masked: { truncated: 0, unscorable: 1 }, prompt_tokens_match: null, kl: 0 });
    expect(await client.metrics()).toMatch(/^differad_trainer_masked_total\{reason="unscorable"\} 1$/m);
  });

  it('adds β·KL against the starting policy once the policy has moved', async () => {
    await startTrainer();
    const group = toGroup(DEFAULT_CPU_POLICY, 2, (t) => t);
    await client.forwardBackward({ run: 'r', step: 0, micro_batch: 0, micro_batches: 1, loss: CONTRACT_LOSS, groups: [group] });
    await client.optimStep({ run: 'r', step: 0, lr: 0.05 });
    const plain = await client.forwardBackward({
      run: 'r',
      step: 1,
      micro_batch: 0,
      micro_batches: 2,
      loss: CONTRACT_LOSS,
      groups: [group],
    });
    const withKl = await client.forwardBackward({
      run: 'r',
      step: 1,
      micro_batch: 1,
      micro_batches: 2,
      loss: { ...CONTRACT_LOSS, beta: 0.5 },
      groups: [group],
    });
    expect(plain.kl!).toBeGreaterThan(0);
    expect(withKl.loss! - plain.loss!).toBeCloseTo(0.5 * plain.kl!, 12);
  });

  it('writes weight files and checkpoints atomically inside its state dir, and only there', async () => {
    await startTrainer({ initialPolicy: { ...DEFAULT_CPU_POLICY, version: 7 } });
    expect((await client.health()).weight_version).toBe(7);
    await client.forwardBackward({
      run: 'r',
      step: 0,
      micro_batch: 0,
      micro_batches: 1,
      loss: CONTRACT_LOSS,
      groups: [toGroup(DEFAULT_CPU_POLICY, 3, (t) => t)],
    });
    await client.optimStep({ run: 'r', step: 0, lr: 0.01 });
    const sent = await client.sendWeights({ version: 8, backend: 'disk' });
    expect(sent).toMatchObject({ backend: 'disk', version: 8, path: join(stateDir, 'weights', 'policy-v8.json') });
    expect(GaussianPolicySchema.parse(JSON.parse(await readFile(sent.path!, 'utf8'))).version).toBe(8);
    const saved = await client.saveCheckpoint({ run: 'r', step: 0 });
    expect(saved.path).toBe(join(stateDir, 'checkpoints', 'r', 'step-0.json'));
    const checkpoint = CpuCheckpointSchema.parse(JSON.parse(await readFile(saved.path, 'utf8')));
    expect(checkpoint).toMatchObject({ run: 'r', step: 0, weight_version: 8, adam: { t: 1 } });
    expect(checkpoint.reference.params).toEqual(DEFAULT_CPU_POLICY.params);
    expect((await readdir(join(stateDir, 'checkpoints', 'r'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const outside = await client.sendWeights({ version: 8, backend: 'disk', path: '../../escape.json' }).catch((e: unknown) => e);
    expect(outside).toMatchObject({
      code: 'TRAINER_REJECTED',
      details: { status: 400, error: { code: 'TRAINER_REQUEST_INVALID', details: { fields: [{ field: 'path' }] } } },
    });
    const nccl = await client.sendWeights({ version: 8, backend: 'nccl' }).catch((e: unknown) => e);
    expect(nccl).toMatchObject({ details: { status: 400, error: { code: 'TRAINER_BACKEND_UNSUPPORTED' } } });
    const notThere = await client.loadCheckpoint({ path: sent.path! }).catch((e: unknown) => e);
    expect(notThere).toMatchObject({ details: { status: 400, error: { details: { fields: [{ field: 'path' }] } } } });
    await writeFile(join(stateDir, 'checkpoints', 'bad.json'), '{"format":"something else"}');
    const broken = await client.loadCheckpoint({ path: 'bad.json' }).catch((e: unknown) => e);
    expect(broken).toMatchObject({ details: { status: 422, error: { code: 'TRAINER_CHECKPOINT_INVALID' } } });
    expect((await client.health()).weight_version).toBe(8);
  });

  it('answers 400 naming path, not 500, for a path the file system would refuse (a NUL, a name past 200 bytes)', async () => {
    await startTrainer();
    await client.forwardBackward({
      run: 'r',
      step: 0,
      micro_batch: 0,
      micro_batches: 1,
      loss: CONTRACT_LOSS,
      groups: [toGroup(DEFAULT_CPU_POLICY, 3, (t) => t)],
    });
    await client.optimStep({ run: 'r', step: 0, lr: 0.01 });
    for (const path of ['a\0b.json', `${'x'.repeat(201)}.json`, `${'d'.repeat(300)}/policy.json`]) {
      const calls = [
        client.sendWeights({ version: 1, backend: 'disk', path }),
        client.saveCheckpoint({ run: 'r', step: 0, path }),
        client.loadCheckpoint({ path }),
      ];
      for (const refused of await Promise.all(
        calls.map((c) =>
          c.then(
            () => 'accepted',
            (e: unknown) => e,
          ),
        ),
      )) {
        expect(refused).toMatchObject({
          details: { status: 400, error: { code: 'TRAINER_REQUEST_INVALID', details: { fields: [{ field: 'path' }] } } },
        });
      }
    }
    // The longest allowed name still writes.
    const sent = await client.sendWeights({ version: 1, backend: 'disk', path: `${'y'.repeat(195)}.json` });
    expect(sent.bytes).toBeGreaterThan(0);
  });

  it('answers 413 past its body limit and 405 for a wrong method, and keeps serving', async () => {
    const url = await startTrainer({ maxBodyBytes: 1024 });
    const big = await client
      .forwardBackward({
        run: 'r',
        step: 0,
        micro_batch: 0,
        micro_batches: 1,
        loss: CONTRACT_LOSS,
        groups: [toGroup(DEFAULT_CPU_POLICY, 4, (t) => t)],
      })
      .catch((e: unknown) => e);
    expect(isDifferadError(big, 'TRAINER_REJECTED')).toBe(true);
    expect(big).toMatchObject({ details: { status: 413, error: { code: 'TRAINER_BODY_TOO_LARGE' } } });
    const wrong = await fetch(`${url}/v1/optim_step`);
    expect(wrong.status).toBe(405);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('TRAINER_METHOD_NOT_ALLOWED');
    expect((await client.health()).status).toBe('ok');
    expect(await client.metrics()).toMatch(/^differad_trainer_request_errors_total 2$/m);
  });

  it('fails to start on a port in use, and reports the port it bound', async () => {
    const blocker = await startServer(new Hono());
    try {
      const port = blocker.port;
      const clash = createCpuTrainer({ stateDir, port });
      await expect(clash.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await clash.close();
      const url = await startTrainer();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url).not.toContain(`:${port}`);
    } finally {
      await blocker.close();
    }
  });
});
