import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveOptimConfig, type TrainConfig } from '@differad/config';
import {
  checkTrainerAtStep,
  DifferadError,
  isCheckpointDue,
  isDifferadError,
  isHeldOutEvalDue,
  planMicroBatches,
  type StepRow,
  toPairMessages,
  toStepRow,
} from '@differad/core';
import type { StepPayload } from '@differad/queue';
import {
  completionTokenCount,
  type ForwardBackwardResponse,
  type Group,
  type OptimStepRequest,
  PACKED_COMPLETIONS,
  packTokens,
} from '@differad/trainer-client';
import type { Job } from 'bullmq';
import { clearStepGroups, type GroupStore, type SlotResult } from './group-store.js';
import { checkStepRound, resumeRegenerations, settleStaleness, type StepStaleness } from './step-staleness.js';
import type { RunContext } from './run-context.js';
import { syncFleet } from './sync-fleet.js';
import { toGroupImages, withImageBytes } from './trainer-images.js';
import type { NcclSyncState } from './weight-sync.js';
import { toTrainerPosition } from './trainer-position.js';

/** The step job's error when the trainer is not where the step expects it (non-retryable: the coordinator restores it). */
export const TRAINER_STATE_CODE = 'ORCHESTRATOR_TRAINER_STATE';

type MicroBatchRequest = Omit<Parameters<RunContext['trainer']['forwardBackward']>[0], 'groups'>;

/** The group with the bytes of images the trainer already holds left out (the API's hash-only form). */
function withoutKnownBytes(group: Group, known: ReadonlySet<string>): Group {
  return { ...group, images: group.images.map((im) => (known.has(im.sha256) ? { sha256: im.sha256 } : im)) };
}

/** The group with every completion's token ids and log-probs packed (a trainer with the `packed_completions` feature). */
export function withPackedCompletions(group: Group): Group {
  return {
    ...group,
    completions: group.completions.map((c) =>
      c.token_ids === undefined || c.sampling_logprobs === undefined
        ? c
        : {
            text: c.text,
            packed: packTokens(c.token_ids, c.sampling_logprobs),
            advantage: c.advantage,
            weight: c.weight,
            truncated: c.truncated,
          },
    ),
  };
}

/**
 * One `forward_backward`, sending image bytes only for images the trainer has
 * not received yet, and completions packed when the trainer's health lists
 * `packed_completions` (`packed`). A trainer that lost its image cache (a restart) answers
 * TRAINER_IMAGE_UNKNOWN; the micro-batch then goes again with every byte.
 */
export async function sendMicroBatch(
  ctx: RunContext,
  request: MicroBatchRequest,
  groups: readonly Group[],
  packed = false,
): Promise<ForwardBackwardResponse> {
  const hashes = groups.flatMap((g) => g.images.map((im) => im.sha256));
  const sent = packed ? groups.map(withPackedCompletions) : groups;
  let reply: ForwardBackwardResponse;
  try {
    reply = await ctx.trainer.forwardBackward({ ...request, groups: sent.map((g) => withoutKnownBytes(g, ctx.imagesAtTrainer)) });
  } catch (error) {
    const code = (error as DifferadError).details?.error as { code?: string } | undefined;
    if (!isDifferadError(error, 'TRAINER_REJECTED') || code?.code !== 'TRAINER_IMAGE_UNKNOWN') throw error;
    for (const h of hashes) ctx.imagesAtTrainer.delete(h);
    reply = await ctx.trainer.forwardBackward({ ...request, groups: await Promise.all(sent.map((g) => withImageBytes(ctx, g))) });
  }
  for (const h of hashes) ctx.imagesAtTrainer.add(h);
  return reply;
}

/** What the step job sends the trainer: the micro-batches in order, then the optim_step. */
export interface StepRequests {
  readonly microBatches: readonly { readonly request: MicroBatchRequest; readonly groups: readonly Group[] }[];
  readonly optim: OptimStepRequest;
}

/**
 * The trainer requests of a step: core's micro-batch plan (groups in
 * micro-batches of `optim.microBatchGroups`, the whole step's denominators
 * `step_sequences` and `step_tokens` on every one, docs/method.md §6.3) with
 * the run's loss settings. optim_step gets the learning rate and gradient
 * clipping of the run's trainer kind unless the config sets them.
 */
export function planStepRequests(config: TrainConfig, run: string, step: number, groups: readonly Group[]): StepRequests {
  const { grpo, sampling } = config;
  const optim = resolveOptimConfig(config.optim, config.trainer);
  const plan = planMicroBatches(groups, optim.microBatchGroups, (g) => g.completions.map(completionTokenCount));
  const loss = {
    clip_low: grpo.clipLow,
    clip_high: grpo.clipHigh,
    beta: grpo.beta,
    normalization: grpo.lossNormalization,
    mask_truncated: grpo.maskTruncated,
    temperature: Math.max(sampling.temperature, 1e-3),
    step_sequences: plan.stepSequences,
    step_tokens: plan.stepTokens,
  };
  return {
    microBatches: plan.batches.map((batch, i) => ({
      request: { run, step, micro_batch: i, micro_batches: plan.batches.length, loss },
      groups: batch,
    })),
    optim: { run, step, lr: optim.lr, max_grad_norm: optim.maxGradNorm },
  };
}

/** One row of a run's metrics (core's `toStepRow`). */
export type { StepRow };

/** The trainer group of a final slot: both images, the chat messages the server was sent (images by index), the completions with their advantages and weight. */
export async function toTrainerGroup(ctx: RunContext, slot: SlotResult): Promise<Group> {
  const { sampled, final } = slot;
  return {
    pair_id: slot.pairId,
    images: await toGroupImages(ctx, slot.pairId, sampled.images),
    // The same messages the rollout sent the inference server, images by index.
    messages: toPairMessages({ system: sampled.system, prompt: sampled.instruction }),
    prompt_token_ids: sampled.promptTokenIds,
    completions: sampled.completions.map((c, i) => {
      if (c.tokenIds.length === 0 || c.logprobs.length !== c.tokenIds.length) {
        throw new DifferadError(
          'ORCHESTRATOR_NO_LOGPROBS',
          `server ${c.server} returned no token ids or log-probs for pair ${slot.pairId}: it cannot be trained on`,
        );
      }
      return {
        text: c.text,
        token_ids: c.tokenIds,
        sampling_logprobs: c.logprobs,
        advantage: final.advantages[i] ?? 0,
        weight: final.weight,
        truncated: c.finishReason === 'length',
      };
    }),
  };
}

/** The step's final groups, all at once: one pipelined round trip to Redis instead of one per slot, on the path to the trainer (null for a slot with none). */
function readSlots(groups: GroupStore, payload: StepPayload): Promise<(SlotResult | null)[]> {
  return Promise.all(Array.from({ length: payload.pairCount }, (_, k) => groups.loadResult(payload.runId, payload.step, k)));
}

/**
 * Every slot's final group; a slot with none fails the job (retryable)
 * unless its regeneration was started by an earlier try that died before
 * adding its sampling: the job then adds it and waits for it
 * (resumeRegenerations).
 */
async function requireSlots(ctx: RunContext, job: Job, payload: StepPayload, loaded: (SlotResult | null)[]): Promise<SlotResult[]> {
  const missing = loaded.flatMap((r, k) => (r === null ? [k] : []));
  if (missing.length === 0) return loaded as SlotResult[];
  await resumeRegenerations(ctx, job, payload, missing);
  throw new DifferadError('ORCHESTRATOR_GROUP_MISSING', `step ${payload.step}: slot ${missing[0]} has no final group`, { retryable: true });
}

/** Whether the metrics file has a line for `step` already (a row's first field is its step). */
async function hasStepLine(file: string, step: number): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').some((line) => line.startsWith(`{"step":${step},`));
}

/**
 * The step job, run when every group of the step is final: micro-batches to
 * the trainer (`forward_backward`), `optim_step`, the weight sync to every
 * inference server, the held-out evaluation when due, then the step's metrics
 * (Redis, metrics.jsonl) and the run's progress. Every trainer call is
 * idempotent by (run, step, micro-batch), so a retried step applies nothing twice.
 */
export function createStepProcessor(ctx: RunContext, groups: GroupStore, syncState: NcclSyncState) {
  return async (payload: StepPayload, job: Job): Promise<StepRow> => {
    const waited = Date.now() - job.timestamp;
    // Three reads that need nothing of each other, on the step's critical path: made together, judged in this order.
    const [round, read, trainerHealth] = await Promise.allSettled([
      checkStepRound(ctx, payload),
      readSlots(groups, payload),
      // A trainer that restarted since the coordinator's check would train this step on its starting weights.
      ctx.trainer.health(),
    ]);
    if (round.status === 'rejected') throw round.reason;
    // In the run's round, the step before finished for good before this one was let run, and nothing reads its groups again: without this they stayed a week (~16 KB a slot, a long run's Redis memory). Not before the round check: a job of a round the run has left must not touch the slots the new round is filling.
    if (payload.step > 0) void clearStepGroups(ctx.redis, payload.runId, payload.step - 1, payload.pairCount).catch(() => undefined);
    if (read.status === 'rejected') throw read.reason;
    const slots = await requireSlots(ctx, job, payload, read.value);
    if (trainerHealth.status === 'rejected') throw trainerHealth.reason;
    const health = trainerHealth.value;
    const problem = checkTrainerAtStep(
      { runId: payload.runId, step: payload.step, weightVersion: payload.weightVersion },
      toTrainerPosition(health),
    );
    if (problem !== null)
      throw new DifferadError(TRAINER_STATE_CODE, `${problem}; the coordinator puts it back on the last saved checkpoint`);
    const trainStart = performance.now();
    // The trainer's groups are made while the staleness rule is applied; a rerun for stale groups leaves them (the preparer keeps the images).
    const preparing = Promise.all(slots.map((s) => toTrainerGroup(ctx, s)));
    preparing.catch(() => undefined);
    // Overlapped mode: groups too old for the trainer's weights are sampled again first (settleStaleness then throws: the job waits for them and runs again, loading the slots anew).
    const staleness: StepStaleness | undefined =
      ctx.config.grpo.maxStaleness > 0 ? await settleStaleness(ctx, groups, job, payload, slots, health.weight_version) : undefined;
    const trainerGroups = await preparing;
    const plan = planStepRequests(ctx.config, payload.runId, payload.step, trainerGroups);
    const results: ForwardBackwardResponse[] = [];
    const packed = health.features?.includes(PACKED_COMPLETIONS) === true;
    for (const micro of plan.microBatches) results.push(await sendMicroBatch(ctx, micro.request, micro.groups, packed));
    const applied = await ctx.trainer.optimStep(plan.optim);
    const { data, run } = ctx.config;
    const checkpoint = isCheckpointDue(payload.step, run);
    if (checkpoint) await ctx.trainer.saveCheckpoint({ run: payload.runId, step: payload.step });
    const trainMs = performance.now() - trainStart;

    const syncStart = performance.now();
    // Servers that are down or fail the sync leave the rollout pool; below policy.minServers the step fails (docs/architecture.md §6.1).
    const fleet = await syncFleet(
      { runId: payload.runId, config: ctx.config, trainer: ctx.trainer, targets: ctx.syncTargets, pools: ctx.pools, log: ctx.log },
      { step: payload.step, version: applied.weight_version },
      syncState,
    );
    const syncMs = performance.now() - syncStart;
    const { policy } = ctx.config;
    if (fleet !== null && policy.kind === 'endpoints')
      ctx.metrics?.recordWeightSync({
        run: payload.runId,
        backend: policy.syncBackend,
        seconds: syncMs / 1000,
        version: applied.weight_version,
      });

    const evalStart = performance.now();
    const due = ctx.evaluate !== null && isHeldOutEvalDue(payload.step, { steps: run.steps, evalEvery: data.evalEvery });
    const evaluation = due && ctx.evaluate ? await ctx.evaluate(payload.step, fleet?.active) : {};
    const evalMs = due ? performance.now() - evalStart : null;

    const row = toStepRow({
      step: payload.step,
      slots: slots.map((s) => ({
        scored: s.scored,
        weight: s.final.weight,
        resamples: s.resamples,
        replacements: s.replacements,
        rolloutMs: s.sampled.rolloutMs,
        scoreMs: s.scoreMs,
      })),
      microBatches: results,
      applied: { gradNorm: applied.grad_norm, weightVersion: applied.weight_version },
      servers: fleet ? { active: fleet.active.length, out: fleet.out.length } : null,
      ...(staleness ? { staleness } : {}),
      evaluation,
      timings: { waitMs: waited, trainMs, syncMs, evalMs, totalMs: Date.now() - job.timestamp },
    });
    const fresh = await ctx.store.appendMetrics(payload.runId, {
      step: payload.step,
      weightVersion: applied.weight_version,
      at: Date.now(),
      values: row,
    });
    // A retry after a crash between the two writes still gets the step's line into the file, once.
    const file = join(ctx.runDir, 'metrics.jsonl');
    if (fresh || !(await hasStepLine(file, payload.step))) await appendFile(file, `${JSON.stringify(row)}\n`);
    // The checkpoint is recorded with the step: a restore never picks one of a step the run store has not completed.
    await ctx.store.completeStep(payload.runId, payload.step, applied.weight_version, { checkpoint });
    ctx.metrics?.recordStep(payload.runId, row);
    return row;
  };
}
