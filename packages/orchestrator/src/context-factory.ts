import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { DifferadError, type ImageSize, planReadmit, toFrameResize, toPairPrompt } from '@differad/core';
import { loadManifest, loadPromptPool, resolveManifestPath } from '@differad/datasets';
import { createFramePreparer } from '@differad/images';
import { createFleet, createVllmControl, normalizeServerUrl } from '@differad/inference';
import { type Logger, toLineSink } from '@differad/log';
import type { DifferadMetrics } from '@differad/metrics';
import { type CatalogQueues, createFleetPoolStore, type FleetPoolStore, type RunStore } from '@differad/queue';
import { createTrainerClient, type TrainerClient } from '@differad/trainer-client';
import type { Redis } from 'ioredis';
import { createHeldOutEvaluator } from './held-out-eval.js';
import { indexPairs } from './pair-index.js';
import { writeHeldOutReport } from './run-summary-file.js';
import type { RunContext } from './run-context.js';
import { pauseModeOf } from './sync-fleet.js';
import { syncWeightsEach, type WeightSyncTarget } from './weight-sync.js';
import { withTrainerTiming } from './timed-trainer.js';

/** A run whose servers are known by URL: what is stored in Redis, so any worker process can serve it. */
export type ResolvedTrainConfig = TrainConfig & {
  readonly policy: Extract<TrainConfig['policy'], { kind: 'endpoints' }>;
  readonly trainer: Extract<TrainConfig['trainer'], { kind: 'url' }>;
};

export function isResolved(config: TrainConfig): config is ResolvedTrainConfig {
  return config.policy.kind === 'endpoints' && config.trainer.kind === 'url';
}

export interface ContextFactoryDeps {
  readonly redis: Redis;
  readonly queues: CatalogQueues;
  readonly store: RunStore;
  readonly log: (line: string) => void;
  /** When given, a run's diagnostic lines go here with its id (`run`) instead of to `log`. */
  readonly logger?: Logger;
  /** The process's metrics: each run's fleet is read at every scrape, its trainer calls timed. */
  readonly metrics?: DifferadMetrics;
}

/**
 * Builds (once per run, then cached) everything the workers of a run need from
 * its stored, resolved config: the manifests, a fleet over its inference
 * servers, a trainer client, the weight-sync targets and the evaluator.
 */
export function createContextFactory(deps: ContextFactoryDeps) {
  const contexts = new Map<string, Promise<RunContext>>();
  const stopFleetStats = new Map<string, () => void>();
  const build = async (runId: string): Promise<RunContext> => {
    const config = await deps.store.loadConfig(runId, TrainConfigSchema);
    if (!config) throw new DifferadError('ORCHESTRATOR_RUN_UNKNOWN', `run ${runId} is not in Redis`);
    if (!isResolved(config)) throw new DifferadError('ORCHESTRATOR_RUN_UNRESOLVED', `run ${runId} was stored without server URLs`);
    const ctx = await buildRunContext(runId, config, deps);
    if (deps.metrics) stopFleetStats.set(runId, deps.metrics.collectFleet(ctx.fleet));
    return ctx;
  };
  return {
    get(runId: string): Promise<RunContext> {
      let ctx = contexts.get(runId);
      if (!ctx) {
        ctx = build(runId);
        ctx.catch(() => contexts.delete(runId));
        contexts.set(runId, ctx);
      }
      return ctx;
    },
    async close(): Promise<void> {
      for (const p of contexts.values()) {
        const ctx = await p.catch(() => null);
        if (!ctx) continue;
        stopFleetStats.get(ctx.runId)?.();
        await ctx.fleet.close();
        await ctx.trainer.close();
        for (const t of ctx.syncTargets) await t.control.close();
      }
      contexts.clear();
    },
  };
}
export type ContextFactory = ReturnType<typeof createContextFactory>;

/**
 * The fleet's `readmit` check for a run whose servers take weight syncs: a
 * server the fleet ejected that is in the rollout pool must report the
 * version the pool holds it at (`GET /weight_info`). One that restarted
 * meanwhile reports vLLM's "default": after a disk sync it is loaded again
 * from the folder the pool records and labelled (the sync's own calls, on
 * this server alone), then let in; with nccl, or when that load fails, it
 * stays out until the next sync.
 */
async function checkReadmit(
  runId: string,
  server: string,
  targets: readonly WeightSyncTarget[],
  pools: FleetPoolStore,
  heal: { readonly pauseMode: 'wait' | 'keep'; readonly log: (line: string) => void },
): Promise<string | null> {
  const target = targets.find((t) => normalizeServerUrl(t.url) === server);
  if (target === undefined) return null;
  const pool = await pools.load(runId);
  const member = pool?.members.find((m) => m.url === target.url);
  if (pool === null || member?.state !== 'in') return null;
  // The fleet's own deadline for a probe (5 s), not the control's for a weight load.
  const plan = planReadmit(pool, member, await target.control.weightInfo(5_000));
  if (plan.kind !== 'reload') return plan.kind === 'admit' ? null : plan.reason;
  const [result] = await syncWeightsEach([target], { version: plan.version, path: plan.path, pauseMode: heal.pauseMode });
  if (result?.error) return `${plan.reason}; loading it again from ${plan.path} failed: ${result.error}`;
  heal.log(
    `fleet: ${target.url} had lost the weights of its last sync (restarted?): loaded weight version ${plan.version} again from ${plan.path}`,
  );
  return null;
}

/**
 * Everything the workers of run `runId` need, from its resolved config: the
 * manifests, a started fleet over its inference servers, the frame preparer,
 * prompts and score settings of its model, a trainer client, the weight-sync
 * targets and the held-out evaluator. The caller closes the fleet, the
 * trainer client and the sync targets.
 */
export async function buildRunContext(runId: string, config: ResolvedTrainConfig, deps: ContextFactoryDeps): Promise<RunContext> {
  const train = await loadManifest(config.data.train);
  const log = deps.logger ? toLineSink(deps.logger.child({ run: runId })) : deps.log;
  const syncTargets =
    config.policy.syncBackend === 'none'
      ? []
      : config.policy.endpoints.map((url) => ({ url, control: createVllmControl({ url, timeoutMs: 300_000 }) }));
  const pools = createFleetPoolStore(deps.redis);
  const refusals = new Map<string, string>();
  const lost = new Set<string>();
  const fleet = createFleet({
    servers: config.policy.endpoints,
    model: config.policy.model,
    timeoutMs: config.policy.requestTimeoutMs,
    // A pool member the fleet ejected comes back only with the weights it was synced to (docs/architecture.md §6.1); rollouts ask for them (syncedWeights).
    ...(syncTargets.length === 0
      ? {}
      : { readmit: (server: string) => checkReadmit(runId, server, syncTargets, pools, { pauseMode: pauseModeOf(config), log }) }),
    onEvent: (event) => {
      // Once per server and reason: the fleet probes a refused server again every few seconds until the next sync.
      if (event.type === 'restored') {
        refusals.delete(event.server);
        lost.delete(event.server);
      }
      // Once until it is back: the replies of requests sent to it together are each refused.
      if (event.type === 'weights-lost' && !lost.has(event.server)) {
        lost.add(event.server);
        log(`warning: ${event.server} lost the weights of its last sync, ejected: ${event.reason}`);
      }
      if (event.type !== 'readmit-refused' || refusals.get(event.server) === event.reason) return;
      refusals.set(event.server, event.reason);
      log(`warning: ${event.server} answers /health again but takes no rollout: ${event.reason}`);
    },
  });
  await fleet.start();
  // Images go in the frame the model answers in (no resize for `pixels`), and the prompt states that size.
  const preparer = createFramePreparer({ resize: toFrameResize(config.policy.frame, config.resize), format: 'png' });
  const score = { family: config.policy.family, frame: config.policy.frame, resize: config.resize, reward: config.reward };
  const pool = config.prompt.pool === undefined ? undefined : await loadPromptPool(config.prompt.pool);
  const prompt = (id: string, size: ImageSize, seed: number | string) =>
    toPairPrompt({ family: score.family, frame: score.frame, size, id, seed, pool });
  const runDir = resolve(config.run.runsDir, runId);
  let evaluate: RunContext['evaluate'] = null;
  if (config.data.eval) {
    const held = await loadManifest(config.data.eval);
    evaluate = createHeldOutEvaluator({
      records: held.records.slice(0, config.data.evalLimit),
      resolvePath: (p) => resolveManifestPath(config.data.eval!, p),
      preparer,
      fleet,
      prompt,
      seed: config.run.seed,
      score,
      maxTokens: config.sampling.maxTokens,
      onReport: (step, report) => writeHeldOutReport(runDir, step, report),
    });
  }
  await mkdir(runDir, { recursive: true });
  const timed = (trainer: TrainerClient) => (deps.metrics ? withTrainerTiming(trainer, deps.metrics) : trainer);
  return {
    runId,
    config,
    records: train.records,
    pairIndex: indexPairs(train.records),
    resolvePath: (p) => resolveManifestPath(config.data.train, p),
    preparer,
    fleet,
    trainer: timed(createTrainerClient({ baseUrl: config.trainer.url, timeoutMs: 300_000 })),
    queues: deps.queues,
    redis: deps.redis,
    store: deps.store,
    score,
    prompt,
    syncTargets,
    pools,
    evaluate,
    imagesAtTrainer: new Set<string>(),
    runDir,
    log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  };
}

/** Where a run's files live. */
export function toRunDir(config: TrainConfig, runId: string): string {
  return join(resolve(config.run.runsDir), runId);
}
