/** @differad/trainer-client — trainer HTTP API v1: zod schemas (the source of truth), OpenAPI, a typed client, the contract suite. */
export {
  TRAINER_API_VERSION,
  RunIdSchema,
  StepSchema,
  WeightVersionSchema,
  FieldProblemSchema,
  TrainerErrorBodySchema,
  type TrainerErrorBody,
  TRAINER_ERROR_CODES,
  type TrainerErrorCode,
} from './api/common.js';
export {
  TrainerImageSchema,
  type TrainerImage,
  MessagePartSchema,
  ChatMessageSchema,
  type ChatMessage,
  CompletionSchema,
  type Completion,
  GroupSchema,
  type Group,
  LossConfigSchema,
  type LossConfig,
  ForwardBackwardRequestSchema,
  type ForwardBackwardRequest,
  ForwardBackwardResponseSchema,
  type ForwardBackwardResponse,
} from './api/forward-backward.js';
export {
  HealthResponseSchema,
  type HealthResponse,
  OptimStepRequestSchema,
  type OptimStepRequest,
  OptimStepResponseSchema,
  type OptimStepResponse,
  SaveCheckpointRequestSchema,
  type SaveCheckpointRequest,
  LoadCheckpointRequestSchema,
  type LoadCheckpointRequest,
  CheckpointResponseSchema,
  type CheckpointResponse,
  WEIGHT_BACKENDS,
  type WeightBackend,
  SendWeightsRequestSchema,
  type SendWeightsRequest,
  SendWeightsResponseSchema,
  type SendWeightsResponse,
  WeightsManifestRequestSchema,
  type WeightsManifestRequest,
  WeightsManifestResponseSchema,
  type WeightsManifestResponse,
} from './api/control.js';
export {
  ScoredCompletionSchema,
  ScoreTokensRequestSchema,
  type ScoreTokensRequest,
  ScoreTokensResponseSchema,
  type ScoreTokensResponse,
} from './api/score-tokens.js';
export { type TrainerRoute, type TrainerRouteName, TRAINER_ROUTES, METRICS_PATH } from './api/routes.js';
export { OPENAPI_FILE, OPENAPI_EMIT_COMMAND, createTrainerOpenApiDocument, formatTrainerOpenApiDocument } from './openapi/openapi-document.js';
export { TRAINER_CLIENT_ERROR_CODES } from './client/trainer-errors.js';
export { TRAINER_ERRORS } from './api/trainer-errors.js';
export {
  type TrainerClient,
  type TrainerClientOptions,
  type CallOptions,
  normalizeTrainerUrl,
  createTrainerClient,
} from './client/trainer-client.js';
export {
  type ContractCompletion,
  type ContractSample,
  type ContractTerm,
  CONTRACT_RUN,
  CONTRACT_LOSS,
  METHOD_GROUP,
  METHOD_GROUP_WEIGHT,
  toContractGroup,
  toMethodTerms,
  toContractRequest,
  computeExpectedLoss,
} from './contract/contract-requests.js';
export { type ContractTrainer, type ContractTestApi, type TrainerContractOptions, defineTrainerContract } from './contract/trainer-contract.js';
