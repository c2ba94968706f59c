/**
 * The overlapped mode's staleness rule at the trainer (docs/method.md §6.9):
 * a group sampled more than `grpo.maxStaleness` weight versions before the
 * trainer's is sampled again, and the step trains once, on the new sampling.
 *
 * A lagging replica forces it: a proxy in front of a CPU policy server (which
 * reports the version of the weights that answered, `x-weight-version`) says
 * a few of step 2's first samplings came from the starting weights (version
 * 0) while the trainer is at version 2. Everything else is the real run:
 * `trainRun` on the test's Redis, the CPU policy, the CPU trainer (behind a
 * proxy that records its forward_backward and optim_step calls).
 *
 * A step job that dies between forgetting a stale group and adding its new
 * sampling (issue 16) is made to by the first such addition failing: its
 * retry adds that sampling itself instead of finding the slot missing until
 * its attempts run out.
 */
import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { toSamplingSeed } from '@differad/core';
import { CpuPolicyServer } from '@differad/cpu-policy';
import { type CpuTrainer, createCpuTrainer } from '@differad/cpu-trainer';
import type { TrainRunResult } from '@differad/orchestrator';
import { createCatalogQueues } from '@differad/queue';
import { describe, expect, it, vi } from 'vitest';
import { type Exchange, startRecordingProxy } from './recording-proxy.js';
import { readMetricsFile, trainInProcess, useCleanups, useTrainFixture } from './train-harness.js';

const SEED = 7;
const GROUP_SIZE = 4;
const PAIRS_PER_STEP = 3;
const STEPS = 3;
/** The step whose first samplings the lagging replica answers: the trainer is at version 2 then, two versions past the starting weights. */
const STALE_STEP = 2;

const fixture = useTrainFixture('differad-e2e-train-staleness-', { redis: true });
const cleanup = useCleanups();

interface ChatReply {
  readonly choices: readonly { readonly message: { readonly content: string } }[];
}

interface ForwardBackwardBody {
  readonly run: string;
  readonly step: number;
  readonly micro_batch: number;
  readonly micro_batches: number;
  readonly groups: readonly { readonly pair_id: string; readonly completions: readonly { readonly text: string }[] }[];
}

const texts = (e: Exchange | undefined): string[] => ((e?.reply as ChatReply | null)?.choices ?? []).map((c) => c.message.content);

/** What a run with the lagging replica left to look at. */
interface StaleRun {
  readonly result: TrainRunResult;
  readonly lines: readonly string[];
  readonly served: { readonly exchanges: readonly Exchange[] };
  readonly trained: { readonly exchanges: readonly Exchange[] };
  readonly trainer: CpuTrainer;
}

/**
 * Trains run `runId` (overlapped, maxStaleness 1, no resampling) with step
 * STALE_STEP's first samplings of `staleSlots` reported at version 0, or
 * every sampling of them with `always`.
 */
async function trainWithLaggingReplica(runId: string, staleSlots: readonly number[], always = false): Promise<StaleRun> {
  const staleIds = new Set(staleSlots.map((k) => `${runId}-s${STALE_STEP}-p${k}-a${always ? '' : '0'}`));
  const isStale = (requestId: string) => staleIds.has(always ? requestId.replace(/a\d+$/, 'a') : requestId);
  const policy = await CpuPolicyServer.start({ seed: 5, slots: 8 });
  cleanup(() => policy.close());
  // The lagging replica: these first samplings report the starting weights, as a replica the syncs missed would.
  const served = await startRecordingProxy(policy.url, {
    rewrite: (e, headers) => {
      if (e.path !== '/v1/chat/completions' || e.requestId === null || !isStale(e.requestId)) return;
      headers.set('x-weight-version', '0');
      headers.delete('x-weight-versions');
    },
  });
  cleanup(() => served.close());
  const trainer: CpuTrainer = createCpuTrainer({ stateDir: join(fixture.dir, runId, 'trainer') });
  const { url: trainerUrl } = await trainer.start();
  cleanup(() => trainer.close());
  const trained = await startRecordingProxy(trainerUrl);
  cleanup(() => trained.close());

  const config = TrainConfigSchema.parse({
    run: { id: runId, steps: STEPS, seed: SEED, runsDir: join(fixture.dir, 'runs') },
    data: { train: fixture.data.train },
    policy: { kind: 'endpoints', endpoints: [served.url], model: 'differad-cpu', family: 'differad', frame: 'norm1000' },
    trainer: { kind: 'url', url: trained.url },
    // No resampling: a slot's samplings are its first and, when too old, its regeneration.
    grpo: { groupSize: GROUP_SIZE, pairsPerStep: PAIRS_PER_STEP, maxResamples: 0, onExhausted: 'keep', maxStaleness: 1 },
  });
  const { result, lines } = await trainInProcess(fixture, config);
  return { result, lines, served, trained, trainer };
}

/**
 * The run completed with every step applied once; each stale slot was
 * sampled again once, as its attempt 1 with that attempt's own seed, and
 * nothing else twice; step STALE_STEP trained on the new samplings, and its
 * row counts each regeneration once.
 */
async function expectRegeneratedOnce(runId: string, run: StaleRun, staleSlots: readonly number[]): Promise<void> {
  const { result, served, trained, trainer } = run;
  expect(result.state).toBe('completed');
  expect(result.rows.map((r) => r.step)).toEqual([0, 1, 2]);
  expect(result.rows.map((r) => r.weight_version)).toEqual([1, 2, 3]);
  expect(trainer.stats()).toMatchObject({ optimSteps: STEPS, weightVersion: STEPS, step: STEPS - 1 });

  // Each stale slot was sampled again once, as its attempt 1 with that attempt's own seed; nothing else was sampled twice.
  const chats = served.exchanges.filter((e) => e.path === '/v1/chat/completions');
  const byId = new Map(chats.map((e) => [e.requestId, e]));
  expect(chats).toHaveLength(STEPS * PAIRS_PER_STEP + staleSlots.length);
  expect(byId.size).toBe(chats.length);
  for (const k of staleSlots) {
    const again = byId.get(`${runId}-s${STALE_STEP}-p${k}-a1`);
    expect(again?.request, `slot ${k} sampled again as attempt 1 with that attempt's seed`).toMatchObject({
      seed: toSamplingSeed(SEED, STALE_STEP, k, 1),
    });
    expect((byId.get(`${runId}-s${STALE_STEP}-p${k}-a0`)!.request as { seed: number }).seed).toBe(toSamplingSeed(SEED, STALE_STEP, k, 0));
  }

  // The trainer got step 2 once: each micro-batch once, then one optim_step, with the new samplings' completions in place of the old.
  const fbOf = (step: number) =>
    trained.exchanges
      .filter((e) => e.path === '/v1/forward_backward')
      .map((e) => e.request as ForwardBackwardBody)
      .filter((r) => r.run === runId && r.step === step);
  const stale = fbOf(STALE_STEP);
  expect(stale.map((r) => r.micro_batch)).toEqual(Array.from({ length: stale[0]!.micro_batches }, (_, i) => i));
  const optims = trained.exchanges.filter((e) => e.path === '/v1/optim_step').map((e) => (e.request as { step: number }).step);
  expect(optims).toEqual([0, 1, 2]);
  const groups = stale.flatMap((r) => r.groups);
  expect(groups).toHaveLength(PAIRS_PER_STEP);
  for (const k of staleSlots) {
    const first = byId.get(`${runId}-s${STALE_STEP}-p${k}-a0`);
    const again = byId.get(`${runId}-s${STALE_STEP}-p${k}-a1`);
    const sent = groups.filter((g) => g.completions.map((c) => c.text).join('\n') === texts(again).join('\n'));
    expect(sent, `slot ${k}: the regenerated completions are trained`).toHaveLength(1);
    expect(texts(again)).not.toEqual(texts(first));
    expect(groups.some((g) => g.completions.map((c) => c.text).join('\n') === texts(first).join('\n'))).toBe(false);
  }

  // The step's row: the regenerations, and every completion trained within maxStaleness (the regenerated ones at age 0).
  const rows = await readMetricsFile(join(fixture.dir, 'runs', runId, 'metrics.jsonl'));
  expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
  expect(rows.map((r) => r.regenerated)).toEqual([0, 0, staleSlots.length]);
  for (const row of rows) {
    expect(Object.keys(row).filter((key) => key.startsWith('staleness_'))).toEqual(['staleness_0', 'staleness_1']);
    expect(Number(row.staleness_0) + Number(row.staleness_1)).toBe(PAIRS_PER_STEP * GROUP_SIZE);
  }
  expect(rows[STALE_STEP]!.staleness_0).toBeGreaterThanOrEqual(staleSlots.length * GROUP_SIZE);
  expect(result.rows[STALE_STEP]).toMatchObject({ regenerated: staleSlots.length, resamples: 0, replacements: 0 });
}

describe('differad train, overlapped (grpo.maxStaleness 1): groups sampled too long before the trainer’s weights', () => {
  it('are sampled again with their own seed, the step trains once on the new samplings, and its row counts them', async () => {
    const runId = 'stale-regenerated';
    const staleSlots = [0, 2];
    const run = await trainWithLaggingReplica(runId, staleSlots);
    expect(run.lines.join('\n')).toContain(
      `step ${STALE_STEP}: ${staleSlots.length} group(s) sampled more than 1 weight version(s) before ${STALE_STEP}; sampling them again`,
    );
    await expectRegeneratedOnce(runId, run, staleSlots);
  }, 60_000);

  it('a step job that dies after forgetting a stale group but before adding its new sampling adds it on its retry', async () => {
    const runId = 'stale-died';
    const staleSlots = [0, 2];
    // The step job's first addition of a regeneration fails, as a worker killed at that moment would leave it:
    // slot 0's final group deleted and its regeneration counted, with no sampling queued for it.
    const probe = createCatalogQueues(fixture.client);
    cleanup(() => probe.close());
    const queueProto = Object.getPrototypeOf(probe.queues.resample) as { add: (...args: unknown[]) => Promise<unknown> };
    const add = queueProto.add;
    const refused: unknown[] = [];
    const spy = vi.spyOn(queueProto, 'add').mockImplementation(function (this: unknown, ...args: unknown[]) {
      if (args[0] !== 'resample' || refused.length > 0) return add.apply(this, args);
      refused.push(args[1]);
      return Promise.reject(new Error('the step job’s worker died here'));
    });
    cleanup(async () => spy.mockRestore());

    const run = await trainWithLaggingReplica(runId, staleSlots);
    expect(refused).toEqual([expect.objectContaining({ step: STALE_STEP, pairIndex: 0, attempt: 1 })]);
    const log = run.lines.join('\n');
    expect(log).toContain(`step ${STALE_STEP}: slot(s) 0 have no final group since they were sampled again; waiting for those samplings`);
    // Slot 2 was left as it was: the step found it too old again once slot 0's new sampling was final.
    expect(log).toContain(`step ${STALE_STEP}: 1 group(s) sampled more than 1 weight version(s) before ${STALE_STEP}; sampling them again`);
    // The step was not run again from scratch: each sampling went out once, the regenerations counted once each.
    await expectRegeneratedOnce(runId, run, staleSlots);
  }, 60_000);

  it('a slot that keeps coming back too old stops the run with a clear error instead of being sampled again forever', async () => {
    const runId = 'stale-forever';
    const error = await trainWithLaggingReplica(runId, [1], true).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRAIN_STEP_FAILED' });
    expect((error as Error).message).toContain('ORCHESTRATOR_STALE_SERVER');
    expect((error as Error).message).toContain(`step ${STALE_STEP}: slot 1 (pair `);
    expect((error as Error).message).toMatch(
      /was sampled again 3 times and came back more than 1 weight version\(s\) behind the trainer's 2 each time \(last at version 0, from http:\/\/127\.0\.0\.1:\d+\): a server in the rollout pool keeps serving old weights/,
    );
  }, 60_000);
});
