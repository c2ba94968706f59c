import { computeStepRewardStats, type ScoredGroup } from './score-group.js';
import { toStalenessFields } from './staleness.js';

/** One row of a run's metrics: what `metrics.jsonl`, the run store's stream and the console table show per step. */
export type StepRow = Record<string, number | null>;

/** What a step's final group contributes to its row. */
export interface StepRowSlot {
  /** The sampling that entered the batch. */
  readonly scored: ScoredGroup;
  /** The difficulty weight the group was trained with (docs/method.md §5.4, `weightFrom`). */
  readonly weight: number;
  readonly resamples: number;
  readonly replacements: number;
  readonly rolloutMs: number;
  readonly scoreMs: number;
}

/** What the trainer reported for one micro-batch (`forward_backward`). */
export interface StepRowMicroBatch {
  readonly loss: number | null;
  readonly clip_fraction: number | null;
  readonly kl: number | null;
}

/** What a step's row is assembled from. */
export interface StepRowInput {
  readonly step: number;
  /** The step's final groups, in slot order. */
  readonly slots: readonly StepRowSlot[];
  readonly microBatches: readonly StepRowMicroBatch[];
  /** What `optim_step` reported. */
  readonly applied: { readonly gradNorm: number | null; readonly weightVersion: number };
  /** Servers in and out of the rollout pool after the weight sync; null when the run has no servers to sync. */
  readonly servers: { readonly active: number; readonly out: number } | null;
  /**
   * The overlapped mode's staleness (docs/method.md §6.9): completions trained
   * at each age and the groups regenerated; absent in the serial mode, whose
   * rows carry no staleness fields.
   */
  readonly staleness?: { readonly histogram: readonly number[]; readonly regenerated: number };
  /** The held-out evaluation's `eval_*` fields, empty when none was due. */
  readonly evaluation: Readonly<Record<string, number | null>>;
  readonly timings: {
    /** From the step job's creation to its start. */
    readonly waitMs: number;
    readonly trainMs: number;
    readonly syncMs: number;
    /** Null when no evaluation was due. */
    readonly evalMs: number | null;
    readonly totalMs: number;
  };
}

/** The mean of the values that are not null; null when none is. */
function meanOfReported(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/**
 * The step's metrics row (docs/architecture.md §4.4): its reward statistics
 * over the final groups (docs/method.md §5), the resample and replacement
 * counts, the trainer's loss, clip fraction and KL averaged over the
 * micro-batches that reported them, the gradient norm and weight version,
 * the rollout pool, in the overlapped mode the staleness histogram
 * (`staleness_0` … `staleness_<maxStaleness>`, `regenerated`), the held-out
 * figures when evaluated, then the timings.
 * `step` is the first field: a metrics.jsonl line starts `{"step":N,`.
 */
export function toStepRow(input: StepRowInput): StepRow {
  const { slots, microBatches, servers, timings } = input;
  return {
    step: input.step,
    ...computeStepRewardStats(slots.map((s) => ({ final: s.scored, weight: s.weight }))),
    resamples: sum(slots.map((s) => s.resamples)),
    replacements: sum(slots.map((s) => s.replacements)),
    loss: meanOfReported(microBatches.map((r) => r.loss)),
    clip_fraction: meanOfReported(microBatches.map((r) => r.clip_fraction)),
    kl: meanOfReported(microBatches.map((r) => r.kl)),
    grad_norm: input.applied.gradNorm,
    weight_version: input.applied.weightVersion,
    servers_active: servers ? servers.active : null,
    servers_out: servers ? servers.out : null,
    ...(input.staleness ? toStalenessFields(input.staleness.histogram, input.staleness.regenerated) : {}),
    ...input.evaluation,
    rollout_ms: sum(slots.map((s) => s.rolloutMs)),
    score_ms: sum(slots.map((s) => s.scoreMs)),
    wait_ms: timings.waitMs,
    train_ms: timings.trainMs,
    sync_ms: timings.syncMs,
    eval_ms: timings.evalMs,
    total_ms: timings.totalMs,
  };
}
