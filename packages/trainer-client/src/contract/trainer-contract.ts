/**
 * The trainer port's contract: what the orchestrator relies on from a trainer,
 * checked over real HTTP through the real client. Run against the built-in
 * CPU trainer here; the Python trainer (docker/trainer) runs the same
 * scenarios in pytest, so neither can drift from the schemas.
 *
 * Beyond the schemas, the suite pins down: the docs/method.md §6 loss on a
 * hand-computed case (both normalizations, truncated completions masked and
 * not counted); gradient accumulation as the mean over micro-batches;
 * idempotency by (run, step, micro_batch) and (run, step); the weight
 * manifest of the current version; 409s for another run, a second pending
 * step, an incomplete step and a stale weight version;
 * completions packed (`packed_completions` in health) scored exactly as
 * the two arrays; 400 with dotted field paths (`groups.0.completions.0.sampling_logprobs`,
 * no `body.` prefix); checkpoint round trips that restore weights, position
 * and optimizer moments; and the Prometheus names
 * `differad_trainer_optim_steps_total`,
 * `differad_trainer_micro_batches_total{duplicate="false"|"true"}` and
 * `differad_trainer_weight_version`.
 */
import { isDifferadError } from '@differad/core';
import type * as Vitest from 'vitest';
import { PACKED_COMPLETIONS, packTokens } from '../api/packed-tokens.js';
import { createTrainerClient, type TrainerClient } from '../client/trainer-client.js';
import {
  type ContractSample,
  CONTRACT_LOSS,
  CONTRACT_RUN,
  computeExpectedLoss,
  METHOD_GROUP,
  METHOD_GROUP_WEIGHT,
  toContractGroup,
  toContractRequest,
  toMethodTerms,
} from './contract-requests.js';

/** A trainer under test. */
export interface ContractTrainer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** A prompt and ≥ 9 completions with their log-probs under the trainer's starting weights. */
  readonly sample: ContractSample;
  /** Stops the trainer and removes what it wrote. */
  stop(): Promise<void>;
}

/** The parts of vitest the suite registers with (passed in, so this module never loads vitest at run time). */
export type ContractTestApi = Pick<typeof Vitest, 'describe' | 'it' | 'expect' | 'beforeEach' | 'afterEach'>;

/** Settings for slow trainers. */
export interface TrainerContractOptions {
  /** Deadline per request and per test, ms. */
  readonly timeoutMs: number;
  /** Learning rate of the steps the suite takes (small: one step must lower the loss). */
  readonly lr?: number;
}

/** Registers the contract tests; `start` starts a fresh trainer for each test. */
export function defineTrainerContract(
  t: ContractTestApi,
  name: string,
  start: () => Promise<ContractTrainer>,
  options: TrainerContractOptions = { timeoutMs: 10_000 },
): void {
  const { describe, it, expect, beforeEach, afterEach } = t;
  const lr = options.lr ?? 0.005;

  describe(`trainer contract: ${name}`, { timeout: options.timeoutMs }, () => {
    let trainer: ContractTrainer;
    let client: TrainerClient;
    const methodGroup = () => toContractGroup(trainer.sample, toMethodTerms(false));
    const step = (n: number, microBatch = 0, microBatches = 1) =>
      toContractRequest({ step: n, microBatch, microBatches, groups: [methodGroup()] });
    const rejection = async (promise: Promise<unknown>): Promise<{ status: number; code: string; details: Record<string, unknown> }> => {
      const error = await promise.then(
        () => expect.unreachable('the trainer accepted the request'),
        (e: unknown) => e,
      );
      expect(isDifferadError(error, 'TRAINER_REJECTED'), String(error)).toBe(true);
      const details = (error as { details: { status: number; error: { code: string; details?: Record<string, unknown> } } }).details;
      return { status: details.status, code: details.error.code, details: details.error.details ?? {} };
    };
    const post = async (path: string, body: string) => {
      const res = await fetch(`${trainer.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      return {
        status: res.status,
        json: (await res.json()) as {
          error: { code: string; message: string; details?: { fields?: { field: string; message: string }[] } };
        },
      };
    };

    beforeEach(async () => {
      trainer = await start();
      client = createTrainerClient({ baseUrl: trainer.url, timeoutMs: options.timeoutMs });
    }, options.timeoutMs);

    afterEach(async () => {
      await client?.close();
      await trainer?.stop();
    }, options.timeoutMs);

    it('reports health: ok, v1, no run or step yet, nothing pending', async () => {
      const health = await client.health();
      expect(health).toMatchObject({ status: 'ok', api_version: 'v1', run: null, step: null, pending: null });
      expect(health.world_size).toBeGreaterThanOrEqual(1);
      expect(Number.isInteger(health.weight_version)).toBe(true);
    });

    it.each(['sequence', 'token'] as const)(
      'computes the hand-computed docs/method.md §6 loss (%s normalization, truncated masked)',
      async (normalization) => {
        const terms = toMethodTerms(true);
        const loss = { ...CONTRACT_LOSS, normalization };
        const request = toContractRequest({ step: 0, groups: [toContractGroup(trainer.sample, terms)], loss });
        const reply = await client.forwardBackward(request);
        const expected = computeExpectedLoss(
          terms,
          trainer.sample.completions.map((c) => c.token_ids.length),
          METHOD_GROUP_WEIGHT,
          loss,
        );
        if (new Set(trainer.sample.completions.slice(0, 8).map((c) => c.token_ids.length)).size === 1) {
          expect(expected.loss).toBeCloseTo(METHOD_GROUP.expectedLoss, 5);
          expect(expected.clipFraction).toBe(METHOD_GROUP.expectedClipFraction);
        }
        expect(reply).toMatchObject({
          run: CONTRACT_RUN,
          step: 0,
          micro_batch: 0,
          duplicate: false,
          sequences: 8,
          tokens: expected.tokens,
          masked: { truncated: 1, unscorable: 0 },
        });
        expect(reply.loss).toBeCloseTo(expected.loss, 5);
        expect(reply.clip_fraction).toBeCloseTo(expected.clipFraction, 9);
        if (reply.kl !== null) expect(reply.kl).toBeCloseTo(0, 9);
        if (reply.prompt_tokens_match !== null) expect(reply.prompt_tokens_match).toBe(true);
      },
    );

    it('lists packed_completions and scores a packed micro-batch exactly as the same one with arrays; malformed packing is a 400 naming the field', async () => {
      expect((await client.health()).features).toContain(PACKED_COMPLETIONS);
      const arrays = methodGroup();
      const packed = {
        ...arrays,
        completions: arrays.completions.map(({ token_ids, sampling_logprobs, ...rest }) => ({
          ...rest,
          packed: packTokens(token_ids!, sampling_logprobs!),
        })),
      };
      const a = await client.forwardBackward(toContractRequest({ step: 0, microBatch: 0, microBatches: 2, groups: [arrays] }));
      const b = await client.forwardBackward(toContractRequest({ step: 0, microBatch: 1, microBatches: 2, groups: [packed] }));
      expect(b).toEqual({ ...a, micro_batch: 1 });
      expect((await client.health()).pending).toEqual({ step: 0, received: 2, expected: 2 });

      const bad = (completion: Record<string, unknown>) =>
        JSON.stringify(
          toContractRequest({ step: 0, groups: [{ ...packed, completions: [completion as never, ...packed.completions.slice(1)] }] }),
        );
      const first = packed.completions[0]!;
      const nan = Buffer.from(first.packed.sampling_logprobs, 'base64');
      nan.writeDoubleLE(Number.NaN, 0);
      const cases: [Record<string, unknown>, string][] = [
        [
          { ...first, packed: { ...first.packed, sampling_logprobs: nan.toString('base64') } },
          'groups.0.completions.0.packed.sampling_logprobs',
        ],
        [{ ...first, packed: { ...first.packed, token_ids: 'AAAA' } }, 'groups.0.completions.0.packed.token_ids'],
        [{ ...first, token_ids: arrays.completions[0]!.token_ids }, 'groups.0.completions.0.packed'],
      ];
      for (const [completion, field] of cases) {
        const reply = await post('/v1/forward_backward', bad(completion));
        expect(reply.status).toBe(400);
        expect(reply.json.error.code).toBe('TRAINER_REQUEST_INVALID');
        expect(reply.json.error.details!.fields!.map((f) => f.field)).toEqual([field]);
      }
    });

    it('applies a step exactly once: repeated micro-batches and optim_steps are duplicates and change nothing', async () => {
      const v0 = (await client.health()).weight_version;
      const first = await client.forwardBackward(step(0, 0, 2));
      expect(first.duplicate).toBe(false);
      expect(await client.forwardBackward(step(0, 0, 2))).toEqual({ ...first, duplicate: true });
      expect((await client.health()).pending).toEqual({ step: 0, received: 1, expected: 2 });
      const incomplete = await rejection(client.optimStep({ run: CONTRACT_RUN, step: 0, lr }));
      expect(incomplete).toMatchObject({ status: 409, code: 'TRAINER_STEP_INCOMPLETE', details: { missing: [1] } });
      expect((await client.forwardBackward(step(0, 1, 2))).duplicate).toBe(false);

      const applied = await client.optimStep({ run: CONTRACT_RUN, step: 0, lr });
      expect(applied).toMatchObject({ applied: true, duplicate: false, weight_version: v0 + 1, micro_batches: 2, sequences: 16 });
      expect(applied.grad_norm).toBeGreaterThan(0);
      const probe = await client.forwardBackward(step(1, 0, 4));
      // One GRPO step lowers the surrogate loss of the batch it was computed on.
      expect(probe.loss!).toBeLessThan(first.loss!);

      const again = await client.optimStep({ run: CONTRACT_RUN, step: 0, lr });
      expect(again).toMatchObject({ applied: false, duplicate: true, weight_version: v0 + 1 });
      expect((await client.forwardBackward(step(0, 0, 2))).duplicate).toBe(true);
      const after = await client.forwardBackward(step(1, 1, 4));
      expect(after.loss).toBeCloseTo(probe.loss!, 9);
      expect(await client.health()).toMatchObject({
        run: CONTRACT_RUN,
        step: 0,
        weight_version: v0 + 1,
        pending: { step: 1, received: 2, expected: 4 },
      });
    });

    it('accumulates the micro-batches of a step as the mean over the step', async () => {
      const a = methodGroup();
      const b = toContractGroup(
        trainer.sample,
        toMethodTerms(false).map((term, i, all) => ({ advantage: -term.advantage, ratio: all[all.length - 1 - i]!.ratio })),
      );
      await client.forwardBackward(toContractRequest({ step: 0, microBatch: 0, microBatches: 2, groups: [a] }));
      await client.forwardBackward(toContractRequest({ step: 0, microBatch: 1, microBatches: 2, groups: [b] }));
      const split = await client.optimStep({ run: CONTRACT_RUN, step: 0, lr });
      // The same 16 completions in one micro-batch, on a second fresh trainer.
      const other = await start();
      const otherClient = createTrainerClient({ baseUrl: other.url, timeoutMs: options.timeoutMs });
      try {
        await otherClient.forwardBackward(toContractRequest({ step: 0, groups: [a, b] }));
        const whole = await otherClient.optimStep({ run: CONTRACT_RUN, step: 0, lr });
        expect(split.sequences).toBe(16);
        expect(split.grad_norm!).toBeGreaterThan(0);
        expect(split.grad_norm!).toBeCloseTo(whole.grad_norm!, 6);
      } finally {
        await otherClient.close();
        await other.stop();
      }
    });

    it('refuses another run, a second pending step and a stale weight version with 409', async () => {
      await client.forwardBackward(step(0, 0, 2));
      expect(await rejection(client.forwardBackward({ ...step(0), run: 'another-run' }))).toMatchObject({
        status: 409,
        code: 'TRAINER_RUN_MISMATCH',
      });
      expect(await rejection(client.forwardBackward(step(1)))).toMatchObject({ status: 409, code: 'TRAINER_STEP_CONFLICT' });
      const { weight_version } = await client.health();
      expect(await rejection(client.sendWeights({ version: weight_version + 5, backend: 'disk' }))).toMatchObject({
        status: 409,
        code: 'TRAINER_VERSION_MISMATCH',
      });
    });

    it('lists the weights of the current version (names, dtypes, shapes) for an nccl sync, 409 for another version', async () => {
      const { weight_version } = await client.health();
      const manifest = await client.weightsManifest({ version: weight_version });
      expect(manifest.version).toBe(weight_version);
      expect(manifest.names.length).toBeGreaterThan(0);
      expect(new Set(manifest.names).size).toBe(manifest.names.length);
      expect(manifest.dtypes).toHaveLength(manifest.names.length);
      expect(manifest.shapes).toHaveLength(manifest.names.length);
      expect(await client.weightsManifest({ version: weight_version })).toEqual(manifest);
      expect(await rejection(client.weightsManifest({ version: weight_version + 5 }))).toMatchObject({
        status: 409,
        code: 'TRAINER_VERSION_MISMATCH',
      });
    });

    it("scores given completions read-only: the starting weights' log-probs at T = 1, one per token, and no change of state", async () => {
      const before = await client.health();
      const { images, messages, prompt_token_ids, completions } = trainer.sample;
      const picked = completions.slice(0, 3);
      const reply = await client.scoreTokens({
        temperature: 1,
        images: [...images],
        messages: [...messages],
        prompt_token_ids: prompt_token_ids === null ? null : [...prompt_token_ids],
        completions: picked.map((c) => ({ text: c.text, token_ids: [...c.token_ids] })),
      });
      expect(reply.weight_version).toBe(before.weight_version);
      if (reply.prompt_tokens_match !== null) expect(reply.prompt_tokens_match).toBe(true);
      expect(reply.logprobs.map((lp) => lp?.length)).toEqual(picked.map((c) => c.token_ids.length));
      const sum = (v: readonly number[]) => v.reduce((a, b) => a + b, 0);
      reply.logprobs.forEach((lp, i) => expect(sum(lp!)).toBeCloseTo(sum(picked[i]!.logprobs), 4));
      expect(await client.health()).toEqual(before);
    });

    it('answers invalid bodies with 400 and names the wrong fields', async () => {
      const bad = JSON.parse(JSON.stringify(step(0))) as {
        step: number;
        loss: Record<string, unknown>;
        groups: { completions: { sampling_logprobs: number[] }[] }[];
        extra?: number;
      };
      bad.step = -1;
      bad.loss.clip_low = 'wide';
      bad.groups[0]!.completions[0]!.sampling_logprobs.push(-1);
      const reply = await post('/v1/forward_backward', JSON.stringify(bad));
      expect(reply.status).toBe(400);
      expect(reply.json.error.code).toBe('TRAINER_REQUEST_INVALID');
      const fields = reply.json.error.details!.fields!.map((f) => f.field);
      expect(fields).toEqual(expect.arrayContaining(['step', 'loss.clip_low', 'groups.0.completions.0.sampling_logprobs']));
      const notJson = await post('/v1/optim_step', '{"run":');
      expect(notJson).toMatchObject({ status: 400, json: { error: { code: 'TRAINER_REQUEST_INVALID' } } });
      const lr0 = await post('/v1/optim_step', JSON.stringify({ run: CONTRACT_RUN, step: 0, lr: 0 }));
      expect(lr0.json.error.details!.fields!.map((f) => f.field)).toEqual(['lr']);
      const unknown = await post('/v1/weights/send', JSON.stringify({ version: 0, backend: 'disk', colour: 'red' }));
      expect(unknown.status).toBe(400);
      expect(JSON.stringify(unknown.json.error.details)).toContain('colour');
      expect((await fetch(`${trainer.url}/v1/nope`)).status).toBe(404);
    });

    it('saves a checkpoint and loading it restores the weights, the step and the optimizer position', async () => {
      await client.forwardBackward(step(0));
      await client.optimStep({ run: CONTRACT_RUN, step: 0, lr });
      expect(await rejection(client.saveCheckpoint({ run: CONTRACT_RUN, step: 3 }))).toMatchObject({
        status: 409,
        code: 'TRAINER_STEP_CONFLICT',
      });
      const saved = await client.saveCheckpoint({ run: CONTRACT_RUN, step: 0 });
      expect(saved).toMatchObject({ run: CONTRACT_RUN, step: 0 });
      const atSave = await client.forwardBackward(step(1));
      await client.optimStep({ run: CONTRACT_RUN, step: 1, lr });
      const moved = await client.forwardBackward(step(2));
      expect(moved.loss).not.toBe(atSave.loss);

      expect(await client.loadCheckpoint({ path: saved.path })).toEqual(saved);
      expect(await client.health()).toMatchObject({ run: CONTRACT_RUN, step: 0, weight_version: saved.weight_version, pending: null });
      const replay = await client.forwardBackward(step(1));
      expect(replay.duplicate).toBe(false);
      expect(replay.loss).toBeCloseTo(atSave.loss!, 9);
      // The Adam moments came back too: the same step lands on the same weights.
      await client.optimStep({ run: CONTRACT_RUN, step: 1, lr });
      expect((await client.forwardBackward(step(2))).loss).toBeCloseTo(moved.loss!, 9);

      expect(await client.loadCheckpoint({ run: CONTRACT_RUN, step: 0 })).toMatchObject({ step: 0, weight_version: saved.weight_version });
      expect(await rejection(client.loadCheckpoint({ path: `${saved.path}.missing` }))).toMatchObject({
        status: 404,
        code: 'TRAINER_CHECKPOINT_NOT_FOUND',
      });
    });

    it('sends the current weights to disk and publishes Prometheus metrics', async () => {
      const { weight_version } = await client.health();
      const sent = await client.sendWeights({ version: weight_version, backend: 'disk' });
      expect(sent).toMatchObject({ backend: 'disk', version: weight_version });
      expect(sent.path).toEqual(expect.any(String));
      await client.forwardBackward(step(0));
      await client.optimStep({ run: CONTRACT_RUN, step: 0, lr });
      const text = await client.metrics();
      expect(text).toMatch(/^differad_trainer_optim_steps_total 1$/m);
      expect(text).toMatch(/^differad_trainer_micro_batches_total\{duplicate="false"\} 1$/m);
      expect(text).toMatch(new RegExp(`^differad_trainer_weight_version ${weight_version + 1}$`, 'm'));
    });
  });
}
