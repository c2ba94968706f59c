import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computePolicyLogProb,
  createRng,
  DEFAULT_CPU_POLICY,
  formatPolicySample,
  GaussianPolicySchema,
  parsePolicySample,
  samplePolicy,
} from '@differad/core';
import { CONTRACT_LOSS, createTrainerClient } from '@differad/trainer-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { spawnCli } from './spawn-cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-trainer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('differad trainer serve --cpu', () => {
  it('trains a step, writes the weights for the policy servers and stops cleanly on SIGTERM', async () => {
    const init = { version: 3, params: { threshold: DEFAULT_CPU_POLICY.params.threshold! } };
    await writeFile(join(dir, 'init.json'), JSON.stringify(init));
    const cli = spawnCli(
      ['trainer', 'serve', '--cpu', '--port', '0', '--state-dir', join(dir, 'state'), '--init', join(dir, 'init.json')],
      /CPU trainer listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    try {
      const [, url] = await cli.ready;
      const client = createTrainerClient({ baseUrl: url!, timeoutMs: 10_000 });
      try {
        expect(await client.health()).toMatchObject({ status: 'ok', backend: 'cpu', weight_version: 3, step: null });
        const rng = createRng(7);
        const texts = Array.from(
          { length: 4 },
          () => `<think>${formatPolicySample(samplePolicy(rng, init, 1))}</think><answer>(0,0),(0,0)</answer>`,
        );
        const completions = texts.map((text, i) => ({
          text,
          token_ids: [0],
          sampling_logprobs: [computePolicyLogProb(init, parsePolicySample(text, init)!)],
          advantage: [1, -1, 0.5, -0.5][i]!,
          weight: 1.2,
          truncated: false,
        }));
        const group = { images: [], messages: [{ role: 'user' as const, content: 'box it' }], prompt_token_ids: null, completions };
        const fb = await client.forwardBackward({
          run: 'e2e',
          step: 0,
          micro_batch: 0,
          micro_batches: 1,
          loss: CONTRACT_LOSS,
          groups: [group],
        });
        expect(fb).toMatchObject({ duplicate: false, sequences: 4 });
        expect(await client.optimStep({ run: 'e2e', step: 0, lr: 0.01 })).toMatchObject({ applied: true, weight_version: 4 });
        const sent = await client.sendWeights({ version: 4, backend: 'disk' });
        expect(sent.path).toBe(join(dir, 'state', 'weights', 'policy-v4.json'));
        const policy = GaussianPolicySchema.parse(JSON.parse(await readFile(sent.path!, 'utf8')));
        expect(policy.version).toBe(4);
        expect(policy.params.threshold!.mean).not.toBe(init.params.threshold.mean);
      } finally {
        await client.close();
      }
    } finally {
      if (cli.child.exitCode === null) process.kill(cli.child.pid!, 'SIGTERM');
    }
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('CPU trainer stopped on SIGTERM after 1 optimizer step(s) (weight version 4)');
  });

  it('shows an example in --help, needs --cpu, and rejects a broken --init file', async () => {
    const help = await runCli(['trainer', 'serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('differad trainer serve --cpu --port 0');
    const noCpu = await runCli(['trainer', 'serve', '--port', '0']);
    expect(noCpu.code).toBe(1);
    expect(noCpu.stderr).toContain('pass --cpu');
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ version: 0, params: { threshold: { mean: 'high' } } }));
    const bad = await runCli(['trainer', 'serve', '--cpu', '--port', '0', '--state-dir', dir, '--init', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TRAINER_INIT_INVALID');
    expect(bad.stderr).toContain('threshold.mean');
  });
});
