/** @differad/inference — the OpenAI-compatible fleet client and vLLM control endpoints. */
export {
  type Fleet,
  type FleetStats,
  type Completion,
  type CompletionResult,
  createFleet,
} from './fleet/fleet.js';
export { FleetSettingsSchema, type FleetSettings, type FleetOptions, type FleetEvent } from './fleet/fleet-options.js';
export { type ServerStats } from './fleet/fleet-server.js';
export {
  ConcurrencyLimit,
  type ConcurrencyLimitOptions,
  type LimitSample,
  DEFAULT_CONCURRENCY_LIMIT,
} from './fleet/concurrency-limit.js';
export { computeBackoffMs } from './fleet/backoff.js';
export {
  type SamplingParams,
  type CompletionRequest,
  type ChatRequestBody,
  type ChatMessage,
  type ChatContentPart,
  toChatRequestBody,
} from './chat/chat-request.js';
export {
  ChatResponseSchema,
  type ChatResponse,
  type ParsedChoice,
  type ParsedChatResponse,
  type ResponseExpectation,
  parseChatResponse,
} from './chat/chat-response.js';
export { INFERENCE_ERROR_CODES, INFERENCE_ERRORS } from './http/http-errors.js';
export { normalizeServerUrl } from './http/server-connection.js';
export { type PromSample, type VllmLoad, parsePrometheusText, readVllmLoad } from './metrics/prometheus.js';
export { type PauseMode, type ServedModel, type VllmControl, type VllmControlOptions, createVllmControl } from './control/vllm-control.js';
export { type Clock, systemClock } from './time/clock.js';
export { createOpenAiErrorHandler, formatLoadMetrics, openAiError, toOpenAiError } from './serve/http-io.js';
export { REQUEST_ID_HEADER_MAX, toRequestIdHeader } from './http/request-id-header.js';
export {
  ServedChatRequestSchema,
  type ServedChatRequest,
  EXPLICIT_SAMPLING_FIELDS,
  toChatInputs,
} from './serve/served-chat-request.js';
export { SlotScheduler, type SlotTicket } from './serve/slot-scheduler.js';
export { type TokenPiece, toTokenId, toTokenPieces, toPromptTokenIds } from './serve/tokens.js';
export {
  type AnswerEngine,
  type ChatInput,
  type ChatOutcome,
  type ChatPlan,
  type VllmKitEnv,
  type VllmServerHooks,
  type VllmServerKit,
  type VllmServerKitOptions,
  createVllmServerKit,
} from './serve/vllm-server-kit.js';
export { type ChatBodyContext, type EngineChoice, type EngineToken, toChatCompletionBody, toCutChoices } from './serve/chat-completion-body.js';
export { type DevRouteReply, type ValidationProblem, toValidationReply } from './serve/vllm-errors.js';
export {
  type LogprobsMode,
  LOGPROBS_MODES,
  type NcclEndpoint,
  type NcclTransport,
  VLLM_VERSION,
  type VllmDevRoutes,
  type VllmDevRoutesOptions,
  WEIGHT_TRANSFER_BACKENDS,
  type WeightTransferBackend,
  createVllmDevRoutes,
} from './serve/vllm-dev-routes.js';
export { NCCL_PACKED_DEFAULTS, type NcclInitInfo, type NcclUpdateInfo, parseNcclInitInfo, parseNcclUpdateInfo } from './serve/nccl-info.js';
