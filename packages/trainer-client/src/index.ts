/** @differad/trainer-client — trainer HTTP API v1: zod schemas (the source of truth), OpenAPI, a typed client, the contract suite. */
export {
  TRAINER_API_VERSION,
  RunIdSchema,
  StepSchema,
  WeightVersionSchema,
  type TrainerErrorBody,
  type TrainerErrorCode,
} from './api/common.js';
export {
  type TrainerImage,
  type ChatMessage,
  type Group,
  type ForwardBackwardRequest,
  type ForwardBackwardResponse,
} from './api/forward-backward.js';
export {
  type HealthResponse,
  type OptimStepRequest,
  type OptimStepResponse,
  type SaveCheckpointRequest,
  type LoadCheckpointRequest,
  type CheckpointResponse,
  type SendWeightsRequest,
  type SendWeightsResponse,
  type WeightsManifestRequest,
  type WeightsManifestResponse,
} from './api/control.js';
export { completionTokenCount, completionTokens, PACKED_COMPLETIONS, packTokens } from './api/packed-tokens.js';
export { type ScoreTokensRequest, ScoreTokensResponseSchema, type ScoreTokensResponse } from './api/score-tokens.js';
export { type TrainerRoute, type TrainerRouteName, TRAINER_ROUTES, METRICS_PATH } from './api/routes.js';
export { TRAINER_ERRORS } from './api/trainer-errors.js';
export { type TrainerClient, createTrainerClient } from './client/trainer-client.js';
export { type ContractSample, CONTRACT_LOSS, toContractGroup, toMethodTerms } from './contract/contract-requests.js';
export { type ContractTestApi, defineTrainerContract } from './contract/trainer-contract.js';
