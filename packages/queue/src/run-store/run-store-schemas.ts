import { z } from 'zod';
import { RunIdSchema } from '../catalog/payloads.js';

/**
 * Where a run is in its life. `interrupted` is never stored: readers see it
 * for a run stored as `running` whose process stopped beating (killed, or cut
 * off from Redis) — it is resumable like `paused`. `cancelled` is a run
 * stopped on request (the API's cancel): final like `failed`, but no failure.
 */
export const RUN_STATES = ['created', 'running', 'paused', 'interrupted', 'completed', 'failed', 'cancelled'] as const;
/** One of {@link RUN_STATES}. */
export type RunState = (typeof RUN_STATES)[number];

/**
 * What `differad train --resume` and the dashboard read about a run: its
 * state, the last step whose update the trainer applied (null before the
 * first), and the weight version the inference servers serve.
 */
export const RunSnapshotSchema = z.object({
  runId: RunIdSchema,
  state: z.enum(RUN_STATES),
  /** Why the run is paused, failed or cancelled, when it is. */
  message: z.string().optional(),
  lastCompletedStep: z.int().min(0).nullable(),
  weightVersion: z.int().min(0),
  /** Unix ms. */
  createdAt: z.int().min(0),
  /** Unix ms of the last change. */
  updatedAt: z.int().min(0),
});
/** A run's status, as stored. */
export type RunSnapshot = z.infer<typeof RunSnapshotSchema>;

/** The process driving a run, as its heartbeat records it. */
export const RunOwnerSchema = z.object({
  pid: z.int().min(0),
  host: z.string(),
  /** Unix ms of the beat that wrote this. */
  at: z.int().min(0),
});
/** The process driving a run. */
export type RunOwner = z.infer<typeof RunOwnerSchema>;

/**
 * What putting a run's trainer back on the run store needs
 * (docs/architecture.md §4.4): the last completed step and its weight
 * version, the last checkpoint the trainer saved at or before it, and the
 * step round: it goes up each time steps are rerun (a failed step retried,
 * steps replayed after a restore), and is part of their job ids.
 */
export const RunRecoverySchema = z.object({
  lastCompletedStep: z.int().min(0).nullable(),
  weightVersion: z.int().min(0),
  checkpoint: z.object({ step: z.int().min(0), weightVersion: z.int().min(0) }).nullable(),
  round: z.int().min(0),
});
/** A run's recovery position, as stored. */
export type RunRecovery = z.infer<typeof RunRecoverySchema>;

/**
 * One step's metrics (docs/architecture.md §4.4: reward mean/std, format rate, IoU, fraction
 * degenerate, resamples, loss, grad norm, timings…) as named numbers; null
 * where a value is undefined for the step (e.g. no eval ran).
 */
export const StepMetricsSchema = z.object({
  step: z.int().min(0),
  weightVersion: z.int().min(0),
  /** Unix ms when the step completed. */
  at: z.int().min(0),
  values: z.record(z.string().min(1), z.number().nullable()),
});
/** One step's metrics. */
export type StepMetrics = z.infer<typeof StepMetricsSchema>;
