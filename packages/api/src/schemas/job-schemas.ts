import { FRAMES, MODEL_FAMILIES } from '@differad/core';
import { z } from 'zod';

/** Where an evaluation's completions come from: the built-in CPU policy or OpenAI-compatible servers. */
export const EvalPolicySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('cpu') }),
  z.strictObject({
    kind: z.literal('endpoints'),
    endpoints: z
      .array(z.url({ protocol: /^https?$/ }))
      .min(1)
      .max(64),
    model: z.string().min(1).max(256),
  }),
]);

/** `POST /v1/evals`: the options of `differad eval`. Paths are inside the data roots (relative ones from the first). */
export const SubmitEvalBodySchema = z.strictObject({
  manifest: z.string().min(1).max(4096),
  policy: EvalPolicySchema.default({ kind: 'cpu' }),
  family: z.enum(MODEL_FAMILIES).default('differad'),
  frame: z.enum(FRAMES).default('norm1000'),
  /** A JSON file of instruction strings. */
  prompts: z.string().min(1).max(4096).optional(),
  /** Evaluate only the first N records. */
  limit: z.int().min(1).optional(),
  concurrency: z.union([z.literal('auto'), z.int().min(1).max(1024)]).default('auto'),
  /** Seed of the instruction draw and the request seeds. */
  seed: z.int().min(0).max(0xffff_ffff).default(0),
});
/** The body of `POST /v1/evals`, defaults applied. */
export type SubmitEvalBody = z.infer<typeof SubmitEvalBodySchema>;

/** `POST /v1/synth`: the options of `differad synth`. Paths are inside the data roots (relative ones from the first). */
export const SubmitSynthBodySchema = z.strictObject({
  normals: z.string().min(1).max(4096),
  /** Output folder (default `<first data root>/synth/<job id>`); must not hold a manifest yet. */
  out: z.string().min(1).max(4096).optional(),
  textures: z.string().min(1).max(4096).optional(),
  count: z.int().min(1).max(1_000_000).default(100),
  pNormal: z.number().min(0).max(1).default(0.25),
  size: z.int().min(64).max(8192).default(512),
  seed: z.int().min(0).max(0xffff_ffff).default(1),
  jobs: z.int().min(1).max(64).default(1),
  foreground: z.enum(['otsu', 'none']).default('otsu'),
  /** A folder of `<stem>.png` foreground masks; replaces `foreground`. */
  foregroundMasks: z.string().min(1).max(4096).optional(),
  format: z.enum(['png', 'jpeg']).default('png'),
  class: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^/\\\0]+$/, 'a class name has no slashes')
    .optional(),
  jsonl: z.boolean().default(false),
});
/** The body of `POST /v1/synth`, defaults applied. */
export type SubmitSynthBody = z.infer<typeof SubmitSynthBodySchema>;

/** The kinds of jobs other than training runs. */
export const JOB_KINDS = ['eval', 'synth'] as const;
/** One of {@link JOB_KINDS}. */
export type JobKind = (typeof JOB_KINDS)[number];

/** Where an evaluation or synthesis job is in its life. */
export const JOB_STATES = ['running', 'completed', 'failed', 'cancelled'] as const;
/** One of {@link JOB_STATES}. */
export type JobState = (typeof JOB_STATES)[number];

/** A job id: the same alphabet as run ids (it names a folder and Redis keys). */
export const JobIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "a job id is 1-64 letters, digits, '_' or '-'");

/** An evaluation or synthesis job as stored and shown. */
export const JobSnapshotSchema = z.object({
  id: JobIdSchema,
  kind: z.enum(JOB_KINDS),
  state: z.enum(JOB_STATES),
  message: z.string().optional(),
  /** Where the job writes (the eval report is `report.html` there; synth writes `manifest.jsonl`). */
  outDir: z.string(),
  exitCode: z.int().nullable(),
  /** Unix ms. */
  createdAt: z.int().min(0),
  updatedAt: z.int().min(0),
  /** The submitted body with defaults applied and paths resolved. */
  spec: z.record(z.string(), z.unknown()),
});
/** A job's status. */
export type JobSnapshot = z.infer<typeof JobSnapshotSchema>;

/** `POST`/`GET` of one job. */
export const JobResponseSchema = z.object({ job: JobSnapshotSchema });
/** `GET /v1/evals`, `GET /v1/synth`: newest first. */
export const JobListResponseSchema = z.object({ jobs: z.array(JobSnapshotSchema) });
