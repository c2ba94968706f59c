import { z } from 'zod';
import { RunIdSchema, StepSchema, TRAINER_API_VERSION, WeightVersionSchema } from './common.js';

/** `GET /v1/health`: whether the trainer is ready, and where it is. */
export const HealthResponseSchema = z
  .strictObject({
    status: z.enum(['ok', 'starting']).describe('"starting" while the model loads; requests other than health wait or fail.'),
    api_version: z.literal(TRAINER_API_VERSION),
    backend: z.string().min(1).describe('"cpu" for the built-in CPU trainer; "hf" or "tiny" for the Python trainer.'),
    model: z.string().min(1),
    world_size: z.number().int().min(1).describe('Processes (GPUs) training together; rank 0 serves HTTP.'),
    run: RunIdSchema.nullable().describe('The run being trained; null before the first request names one.'),
    step: StepSchema.nullable().describe('The last step whose optim_step was applied; null before the first.'),
    weight_version: z.number().int().min(0),
    pending: z
      .strictObject({ step: StepSchema, received: z.number().int().min(0), expected: z.number().int().min(1) })
      .nullable()
      .describe('The step whose micro-batches are accumulating, if any.'),
    features: z
      .array(z.string().min(1))
      .max(64)
      .optional()
      .describe(
        'Optional parts of the API this trainer understands: "packed_completions" (forward_backward completions with packed token ids and log-probs). Absent: none.',
      ),
  })
  .describe('Trainer health and position.');
export type HealthResponse = z.infer<typeof HealthResponseSchema>;

/** `POST /v1/optim_step`: applies the accumulated gradient of a step once. */
export const OptimStepRequestSchema = z
  .strictObject({
    run: RunIdSchema,
    step: StepSchema,
    lr: z.number().gt(0).max(10).describe('Learning rate of this step (Adam with default betas on the CPU trainer).'),
    max_grad_norm: z.number().gt(0).nullable().optional().describe('Clip the gradient to this norm first; absent or null: no clipping.'),
  })
  .describe('Apply the step.');
export type OptimStepRequest = z.infer<typeof OptimStepRequestSchema>;

/** What optim_step did: applied now, or a duplicate of an applied step. */
export const OptimStepResponseSchema = z
  .strictObject({
    run: RunIdSchema,
    step: StepSchema,
    applied: z.boolean().describe('This call applied the update (exactly when duplicate is false).'),
    duplicate: z.boolean().describe('The step was applied before; nothing changed.'),
    grad_norm: z
      .number()
      .min(0)
      .nullable()
      .describe('Gradient norm before clipping; null for a duplicate the trainer no longer remembers.'),
    weight_version: WeightVersionSchema,
    micro_batches: z.number().int().min(0),
    sequences: z.number().int().min(0).describe("Completions in the step's loss."),
  })
  .refine((r) => r.applied !== r.duplicate, { path: ['applied'], message: 'applied must be the opposite of duplicate' })
  .describe('Result of optim_step.');
export type OptimStepResponse = z.infer<typeof OptimStepResponseSchema>;

const CheckpointPathSchema = z
  .string()
  .min(1)
  .max(4096)
  .describe('A file path on the trainer; relative paths are under its checkpoint directory.');

/** `POST /v1/checkpoints`: saves weights, optimizer state and position, atomically. */
export const SaveCheckpointRequestSchema = z
  .strictObject({
    run: RunIdSchema,
    step: StepSchema.describe('Must be the last applied step: the checkpoint is labelled with it.'),
    path: CheckpointPathSchema.optional(),
  })
  .describe('Save a checkpoint.');
export type SaveCheckpointRequest = z.infer<typeof SaveCheckpointRequestSchema>;

/** `POST /v1/checkpoints/load`: by path, or by (run, step) under the checkpoint directory. */
export const LoadCheckpointRequestSchema = z
  .strictObject({ path: CheckpointPathSchema.optional(), run: RunIdSchema.optional(), step: StepSchema.optional() })
  .refine((r) => (r.path !== undefined) !== (r.run !== undefined && r.step !== undefined), {
    path: ['path'],
    message: 'give either path, or run and step',
  })
  .describe('Load a checkpoint: weights, optimizer state, run and step. Also required: either path, or both run and step (field "path").');
export type LoadCheckpointRequest = z.infer<typeof LoadCheckpointRequestSchema>;

/** A checkpoint written or restored: its label and where it is. */
export const CheckpointResponseSchema = z
  .strictObject({
    run: RunIdSchema,
    step: StepSchema,
    weight_version: WeightVersionSchema,
    path: z.string().min(1).describe('Absolute path of the checkpoint on the trainer.'),
  })
  .describe('A saved or loaded checkpoint.');
export type CheckpointResponse = z.infer<typeof CheckpointResponseSchema>;

/** Weight transfer backends (docs/architecture.md §6). */
export const WEIGHT_BACKENDS = ['disk', 'nccl', 'lora'] as const;
export type WeightBackend = (typeof WEIGHT_BACKENDS)[number];

/**
 * `POST /v1/weights/send`: the trainer's side of a weight sync. `disk` writes
 * the weights (CPU: a GaussianPolicy JSON file; Python: safetensors) and
 * returns the path to hand to the inference servers' update_weights.
 */
export const SendWeightsRequestSchema = z
  .strictObject({
    version: WeightVersionSchema.describe("The version to send; must be the trainer's current weight_version."),
    backend: z.enum(WEIGHT_BACKENDS),
    path: z.string().min(1).max(4096).optional().describe("disk/lora: where to write; default under the trainer's weights directory."),
    options: z.record(z.string(), z.unknown()).optional().describe('Backend-specific settings (e.g. nccl group parameters).'),
  })
  .describe('Send the current weights.');
export type SendWeightsRequest = z.infer<typeof SendWeightsRequestSchema>;

/** What a weight send wrote (disk/lora) or broadcast (nccl). */
export const SendWeightsResponseSchema = z
  .strictObject({
    backend: z.enum(WEIGHT_BACKENDS),
    version: WeightVersionSchema,
    path: z.string().min(1).nullable().describe('disk/lora: absolute path written; nccl: null.'),
    bytes: z.number().int().min(0).nullable().describe('Bytes written or sent, when known.'),
  })
  .describe('What the weight send wrote.');
export type SendWeightsResponse = z.infer<typeof SendWeightsResponseSchema>;

/**
 * `POST /v1/weights/manifest`: the names, dtypes and shapes of the weights a
 * send of this version broadcasts, in broadcast order. vLLM's nccl
 * update_weights needs them (`update_info {names, dtype_names, shapes}`)
 * while the trainer's nccl send is in flight.
 */
export const WeightsManifestRequestSchema = z
  .strictObject({ version: WeightVersionSchema.describe("Must be the trainer's current weight_version.") })
  .describe('Ask for the weight manifest.');
export type WeightsManifestRequest = z.infer<typeof WeightsManifestRequestSchema>;

/** The weights of a version, one entry per tensor in the order a send broadcasts them. */
export const WeightsManifestResponseSchema = z
  .strictObject({
    version: WeightVersionSchema,
    names: z.array(z.string().min(1)).describe('Parameter names as the inference model knows them.'),
    dtypes: z.array(z.string().min(1)).describe('torch dtype names without the "torch." prefix, e.g. "bfloat16", "float64".'),
    shapes: z.array(z.array(z.number().int().min(0))).describe('Tensor shapes; [] for a scalar.'),
  })
  .refine((r) => r.dtypes.length === r.names.length && r.shapes.length === r.names.length, {
    path: ['names'],
    message: 'names, dtypes and shapes must have the same length',
  })
  .describe('The weight manifest. Also required: names, dtypes and shapes have the same length, reported as field "names".');
export type WeightsManifestResponse = z.infer<typeof WeightsManifestResponseSchema>;
