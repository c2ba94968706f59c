import {
  type AdamState,
  computeAdamStep,
  computePolicyStepScale,
  computeClippedGradient,
  computeGradNorm,
  createAdamState,
  DifferadError,
  fromPolicyVector,
  type GaussianPolicy,
  toPolicyVector,
} from '@differad/core';
import type {
  ForwardBackwardRequest,
  ForwardBackwardResponse,
  HealthResponse,
  OptimStepRequest,
  OptimStepResponse,
  TrainerErrorCode,
} from '@differad/trainer-client';
import { scoreMicroBatch } from './score-micro-batch.js';

/** Everything a checkpoint holds; restoring it puts the trainer back exactly there. */
export interface TrainingSnapshot {
  readonly run: string;
  readonly step: number;
  readonly weightVersion: number;
  readonly policy: GaussianPolicy;
  readonly reference: GaussianPolicy;
  readonly adam: AdamState;
}

/** Counters for /metrics. */
export interface TrainingCounters {
  optimSteps: number;
  microBatches: number;
  duplicateMicroBatches: number;
  duplicateOptimSteps: number;
  sequences: number;
  maskedTruncated: number;
  maskedUnscorable: number;
  lastLoss: number | null;
  lastGradNorm: number | null;
  lastClipFraction: number | null;
}

/** The position and weights of the CPU trainer, and its idempotent step logic. No I/O. */
export interface TrainingState {
  health(): Pick<HealthResponse, 'run' | 'step' | 'weight_version' | 'pending'>;
  forwardBackward(request: ForwardBackwardRequest): ForwardBackwardResponse;
  optimStep(request: OptimStepRequest): OptimStepResponse;
  /** The state to checkpoint as (run, step); TRAINER_STEP_CONFLICT unless that is the last applied step. */
  snapshot(run: string, step: number): TrainingSnapshot;
  /** Replaces everything with a snapshot; pending micro-batches are dropped. */
  restore(snapshot: TrainingSnapshot): void;
  /** The current policy, its `version` set to the weight version. */
  currentPolicy(): GaussianPolicy;
  readonly counters: Readonly<TrainingCounters>;
}

interface Pending {
  readonly step: number;
  readonly expected: number;
  /** The step's `loss.step_sequences` (null: the request gave none); every micro-batch of the step must agree. */
  readonly stepSequences: number | null;
  readonly replies: Map<number, ForwardBackwardResponse>;
  readonly gradient: number[];
  sequences: number;
}

const reject = (code: TrainerErrorCode, message: string, details: Record<string, unknown> = {}) =>
  new DifferadError(code, message, { details });

/**
 * The factor turning a micro-batch's mean-normalized gradient into its share
 * of the step's gradient (docs/method.md §6.3). A CPU completion is one action
 * (one token in the loss), so both normalizations divide by the step's
 * completions, `loss.step_sequences`: masked and unscorable ones count there
 * and contribute 0, whatever the micro-batching. Without it (older clients),
 * the micro-batch mean counts 1 / micro_batches.
 */
function toStepShare(r: ForwardBackwardRequest, scored: number): number {
  const total = r.loss.step_sequences;
  return total === undefined ? 1 / r.micro_batches : scored / total;
}

/** A request whose step total is below its own completions cannot be normalized by it. */
function checkStepTotals(r: ForwardBackwardRequest, pending: Pending | null): void {
  const own = r.groups.reduce((a, g) => a + g.completions.length, 0);
  const total = r.loss.step_sequences;
  if (total !== undefined && total < own) {
    throw new DifferadError(
      'TRAINER_REQUEST_INVALID',
      `loss.step_sequences is ${total}, but this micro-batch alone has ${own} completions`,
      {
        details: { fields: [{ field: 'loss.step_sequences', message: `must be at least the micro-batch's ${own} completions` }] },
      },
    );
  }
  if (pending && pending.stepSequences !== (total ?? null)) {
    throw reject(
      'TRAINER_STEP_CONFLICT',
      `step ${r.step} was started with step_sequences ${pending.stepSequences ?? 'absent'}, this request says ${total ?? 'absent'}`,
      {
        expected: pending.stepSequences,
      },
    );
  }
}

/**
 * Creates the training state around an initial policy, which is also the
 * frozen KL reference. Idempotency: a micro-batch is applied once per (run,
 * step, micro_batch) and a step once per (run, step); any step at or before
 * the last applied one is a duplicate. One step accumulates at a time.
 */
export function createTrainingState(initial: GaussianPolicy): TrainingState {
  let run: string | null = null;
  let lastStep: number | null = null;
  let weightVersion = initial.version;
  let policy = initial;
  let reference = initial;
  let adam = createAdamState(toPolicyVector(initial).length);
  let pending: Pending | null = null;
  /** Replies of the last applied step, replayed to duplicates. */
  let applied: { step: number; replies: Map<number, ForwardBackwardResponse>; optim: OptimStepResponse } | null = null;
  const counters: TrainingCounters = {
    optimSteps: 0,
    microBatches: 0,
    duplicateMicroBatches: 0,
    duplicateOptimSteps: 0,
    sequences: 0,
    maskedTruncated: 0,
    maskedUnscorable: 0,
    lastLoss: null,
    lastGradNorm: null,
    lastClipFraction: null,
  };

  function claimRun(requested: string): void {
    if (run === null) run = requested;
    else if (run !== requested)
      throw reject('TRAINER_RUN_MISMATCH', `this trainer is training run "${run}", not "${requested}"`, { expected: run, got: requested });
  }

  function forgottenReply(r: ForwardBackwardRequest): ForwardBackwardResponse {
    return {
      run: r.run,
      step: r.step,
      micro_batch: r.micro_batch,
      duplicate: true,
      loss: null,
      clip_fraction: null,
      kl: null,
      sequences: 0,
      tokens: 0,
      masked: { truncated: 0, unscorable: 0 },
      prompt_tokens_match: null,
    };
  }

  function forwardBackward(r: ForwardBackwardRequest): ForwardBackwardResponse {
    claimRun(r.run);
    if (lastStep !== null && r.step <= lastStep) {
      counters.duplicateMicroBatches += 1;
      const known = applied?.step === r.step ? applied.replies.get(r.micro_batch) : undefined;
      return known ? { ...known, duplicate: true } : forgottenReply(r);
    }
    if (pending && pending.step !== r.step) {
      throw reject(
        'TRAINER_STEP_CONFLICT',
        `step ${pending.step} has micro-batches pending; call optim_step for it before sending step ${r.step}`,
        { pending: pending.step },
      );
    }
    if (pending && pending.expected !== r.micro_batches) {
      throw reject(
        'TRAINER_STEP_CONFLICT',
        `step ${r.step} was started with ${pending.expected} micro-batches, this request says ${r.micro_batches}`,
        { expected: pending.expected },
      );
    }
    const known = pending?.replies.get(r.micro_batch);
    if (known) {
      counters.duplicateMicroBatches += 1;
      return { ...known, duplicate: true };
    }
    checkStepTotals(r, pending);
    const scored = scoreMicroBatch(r, policy, reference);
    const current: Pending = pending ?? {
      step: r.step,
      expected: r.micro_batches,
      stepSequences: r.loss.step_sequences ?? null,
      replies: new Map(),
      gradient: scored.gradient.map(() => 0),
      sequences: 0,
    };
    const share = toStepShare(r, scored.count);
    scored.gradient.forEach((g, k) => (current.gradient[k] = current.gradient[k]! + g * share));
    current.sequences += scored.count;
    const reply: ForwardBackwardResponse = {
      run: r.run,
      step: r.step,
      micro_batch: r.micro_batch,
      duplicate: false,
      loss: scored.loss,
      clip_fraction: scored.count > 0 ? scored.clipped / scored.count : 0,
      kl: scored.kl,
      sequences: scored.count,
      tokens: scored.count,
      masked: { truncated: scored.truncated, unscorable: scored.unscorable },
      prompt_tokens_match: null,
    };
    current.replies.set(r.micro_batch, reply);
    pending = current;
    counters.microBatches += 1;
    counters.sequences += scored.count;
    counters.maskedTruncated += scored.truncated;
    counters.maskedUnscorable += scored.unscorable;
    counters.lastLoss = reply.loss;
    counters.lastClipFraction = reply.clip_fraction;
    return reply;
  }

  function optimStep(r: OptimStepRequest): OptimStepResponse {
    claimRun(r.run);
    if (lastStep !== null && r.step <= lastStep) {
      counters.duplicateOptimSteps += 1;
      if (applied?.step === r.step) return { ...applied.optim, applied: false, duplicate: true };
      return {
        run: r.run,
        step: r.step,
        applied: false,
        duplicate: true,
        grad_norm: null,
        weight_version: weightVersion,
        micro_batches: 0,
        sequences: 0,
      };
    }
    if (!pending || pending.step !== r.step) {
      throw reject('TRAINER_STEP_INCOMPLETE', `step ${r.step} has no micro-batches`, { missing: null, pending: pending?.step ?? null });
    }
    const missing = Array.from({ length: pending.expected }, (_, i) => i).filter((i) => !pending!.replies.has(i));
    if (missing.length > 0) {
      throw reject('TRAINER_STEP_INCOMPLETE', `step ${r.step} is missing micro-batches ${missing.join(', ')} of ${pending.expected}`, {
        missing,
      });
    }
    const gradNorm = computeGradNorm(pending.gradient);
    const gradient = r.max_grad_norm ? computeClippedGradient(pending.gradient, r.max_grad_norm) : pending.gradient;
    const next = computeAdamStep(toPolicyVector(policy), gradient, adam, { lr: r.lr, scale: computePolicyStepScale(policy) });
    policy = fromPolicyVector(policy, next.params);
    adam = next.state;
    weightVersion += 1;
    lastStep = r.step;
    const reply: OptimStepResponse = {
      run: r.run,
      step: r.step,
      applied: true,
      duplicate: false,
      grad_norm: gradNorm,
      weight_version: weightVersion,
      micro_batches: pending.expected,
      sequences: pending.sequences,
    };
    applied = { step: r.step, replies: pending.replies, optim: reply };
    pending = null;
    counters.optimSteps += 1;
    counters.lastGradNorm = gradNorm;
    return reply;
  }

  return {
    health: () => ({
      run,
      step: lastStep,
      weight_version: weightVersion,
      pending: pending ? { step: pending.step, received: pending.replies.size, expected: pending.expected } : null,
    }),
    forwardBackward,
    optimStep,
    snapshot(requestedRun, step) {
      if (run !== requestedRun || lastStep !== step) {
        throw reject(
          'TRAINER_STEP_CONFLICT',
          `cannot label a checkpoint (${requestedRun}, step ${step}): the last applied step is ${run === null ? 'none' : `(${run}, step ${lastStep ?? 'none'})`}`,
          {
            run,
            step: lastStep,
          },
        );
      }
      return { run: requestedRun, step, weightVersion, policy, reference, adam };
    },
    restore(s) {
      run = s.run;
      lastStep = s.step;
      weightVersion = s.weightVersion;
      policy = s.policy;
      reference = s.reference;
      adam = s.adam;
      pending = null;
      applied = null;
    },
    currentPolicy: () => ({ ...policy, version: weightVersion }),
    counters,
  };
}
