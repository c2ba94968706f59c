import { TrainConfigSchema } from '@differad/config';
import { RunSnapshotSchema, StepMetricsSchema } from '@differad/queue';
import { z } from 'zod';

/** `POST /v1/runs`: the training config, the same object as the YAML of `differad train --config`. */
export const SubmitRunBodySchema = z.strictObject({ config: TrainConfigSchema });
/** The body of `POST /v1/runs`. */
export type SubmitRunBody = z.infer<typeof SubmitRunBodySchema>;

/** One run as the API shows it. */
export const RunResponseSchema = z.object({ run: RunSnapshotSchema });
/** A run with its config (`GET /v1/runs/:id`); `config` is null when the stored one is not a TrainConfig (a run recorded by another tool). */
export const RunDetailResponseSchema = z.object({ run: RunSnapshotSchema, config: TrainConfigSchema.nullable() });
/** `GET /v1/runs`: newest first. */
export const RunListResponseSchema = z.object({ runs: z.array(RunSnapshotSchema) });

/** The body of a cancel (`POST …/cancel`): empty, or an empty object. */
export const CancelBodySchema = z.strictObject({}).optional();

// Decimal digits only: Number() would also take '', '0x10', '1e3' and ' 7 '.
const queryInt = (max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'a whole number in decimal digits')
    .transform(Number)
    .pipe(z.int().min(0).max(max));

/** Query of the metrics routes: rows from step `fromStep` (default 0), at most `count` (JSON only). */
export const MetricsQuerySchema = z.strictObject({
  fromStep: queryInt(Number.MAX_SAFE_INTEGER).default(0),
  count: queryInt(100_000).pipe(z.int().min(1)).optional(),
});

/** `GET /v1/runs/:id/metrics`: step rows in step order (as the orchestrator wrote them to the run store). */
export const MetricsResponseSchema = z.object({ runId: z.string(), metrics: z.array(StepMetricsSchema) });
