import type { z } from 'zod';
import {
  CheckpointResponseSchema,
  HealthResponseSchema,
  LoadCheckpointRequestSchema,
  OptimStepRequestSchema,
  OptimStepResponseSchema,
  SaveCheckpointRequestSchema,
  SendWeightsRequestSchema,
  SendWeightsResponseSchema,
  WeightsManifestRequestSchema,
  WeightsManifestResponseSchema,
} from './control.js';
import { isHealthResponse, isOptimStepResponse, isSendWeightsResponse } from './control-check.js';
import { ForwardBackwardRequestSchema, ForwardBackwardResponseSchema } from './forward-backward.js';
import { isForwardBackwardRequest, isForwardBackwardResponse } from './forward-backward-check.js';
import { ScoreTokensRequestSchema, ScoreTokensResponseSchema } from './score-tokens.js';

/**
 * A body's component name and schema. `check`, on the hot routes, is the
 * schema checked by hand: true exactly when the schema accepts the value
 * and would output it unchanged, several times faster. A value it refuses
 * goes through the schema, which names the field.
 */
export interface TrainerBody {
  readonly name: string;
  readonly schema: z.ZodType;
  readonly check?: (value: unknown) => boolean;
}

/** One JSON route of the trainer API. */
export interface TrainerRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** Absent for GET. */
  readonly request?: TrainerBody;
  readonly response: TrainerBody;
}

/**
 * The JSON routes of trainer API v1, in one table: the client, the CPU
 * trainer's router and the OpenAPI document all read it. (`GET /metrics` is
 * Prometheus text and has no schema.)
 */
export const TRAINER_ROUTES = {
  health: {
    method: 'GET',
    path: '/v1/health',
    operationId: 'health',
    summary: 'Status, model, world size, run, last applied step and weight version.',
    response: { name: 'HealthResponse', schema: HealthResponseSchema, check: isHealthResponse },
  },
  forwardBackward: {
    method: 'POST',
    path: '/v1/forward_backward',
    operationId: 'forward_backward',
    summary: 'Loss and gradient of one micro-batch, accumulated into the step; idempotent by (run, step, micro_batch).',
    request: { name: 'ForwardBackwardRequest', schema: ForwardBackwardRequestSchema, check: isForwardBackwardRequest },
    response: { name: 'ForwardBackwardResponse', schema: ForwardBackwardResponseSchema, check: isForwardBackwardResponse },
  },
  optimStep: {
    method: 'POST',
    path: '/v1/optim_step',
    operationId: 'optim_step',
    summary: 'Apply the accumulated gradient of a step once; idempotent by (run, step).',
    request: { name: 'OptimStepRequest', schema: OptimStepRequestSchema },
    response: { name: 'OptimStepResponse', schema: OptimStepResponseSchema, check: isOptimStepResponse },
  },
  saveCheckpoint: {
    method: 'POST',
    path: '/v1/checkpoints',
    operationId: 'save_checkpoint',
    summary: 'Save weights, optimizer state, run and step atomically.',
    request: { name: 'SaveCheckpointRequest', schema: SaveCheckpointRequestSchema },
    response: { name: 'CheckpointResponse', schema: CheckpointResponseSchema },
  },
  loadCheckpoint: {
    method: 'POST',
    path: '/v1/checkpoints/load',
    operationId: 'load_checkpoint',
    summary: 'Restore a checkpoint; pending micro-batches are dropped.',
    request: { name: 'LoadCheckpointRequest', schema: LoadCheckpointRequestSchema },
    response: { name: 'CheckpointResponse', schema: CheckpointResponseSchema },
  },
  sendWeights: {
    method: 'POST',
    path: '/v1/weights/send',
    operationId: 'send_weights',
    summary: "The trainer's side of a weight sync (disk, nccl or lora).",
    request: { name: 'SendWeightsRequest', schema: SendWeightsRequestSchema },
    response: { name: 'SendWeightsResponse', schema: SendWeightsResponseSchema, check: isSendWeightsResponse },
  },
  weightsManifest: {
    method: 'POST',
    path: '/v1/weights/manifest',
    operationId: 'weights_manifest',
    summary: "Names, dtypes and shapes of the weights an nccl send broadcasts (vLLM's update_info).",
    request: { name: 'WeightsManifestRequest', schema: WeightsManifestRequestSchema },
    response: { name: 'WeightsManifestResponse', schema: WeightsManifestResponseSchema },
  },
  scoreTokens: {
    method: 'POST',
    path: '/v1/score_tokens',
    operationId: 'score_tokens',
    summary:
      'Read-only: per-token log-probs of given completions under the current weights at a temperature (no gradient, no state change).',
    request: { name: 'ScoreTokensRequest', schema: ScoreTokensRequestSchema },
    response: { name: 'ScoreTokensResponse', schema: ScoreTokensResponseSchema },
  },
} as const satisfies Record<string, TrainerRoute>;

export type TrainerRouteName = keyof typeof TRAINER_ROUTES;

/** The Prometheus metrics route. */
export const METRICS_PATH = '/metrics';
