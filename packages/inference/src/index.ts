/** @differad/inference — the OpenAI-compatible fleet client and vLLM control endpoints. */
export { type Fleet, type CompletionResult, createFleet } from './fleet/fleet.js';
export { type FleetEvent } from './fleet/fleet-options.js';
export { type SamplingParams, type CompletionRequest, toChatRequestBody } from './chat/chat-request.js';
export { compactLogprobEntries, parseChatResponse, parseChatResponseText } from './chat/chat-response.js';
export { INFERENCE_ERROR_CODES, INFERENCE_ERRORS } from './http/http-errors.js';
export { normalizeServerUrl } from './http/server-connection.js';
export { readVllmLoad } from './metrics/prometheus.js';
export { type VllmControl, createVllmControl } from './control/vllm-control.js';
export { type Clock } from './time/clock.js';
export { openAiError } from './serve/http-io.js';
export { toRequestIdHeader } from './http/request-id-header.js';
export { ServedChatRequestSchema, type ServedChatRequest, toChatInputs } from './serve/served-chat-request.js';
export { toTokenPieces, toPromptTokenIds } from './serve/tokens.js';
export {
  type ChatInput,
  type ChatOutcome,
  type ChatPlan,
  type VllmKitEnv,
  type VllmServerKit,
  createVllmServerKit,
} from './serve/vllm-server-kit.js';
export { type EngineChoice } from './serve/chat-completion-body.js';
export {
  type LogprobsMode,
  LOGPROBS_MODES,
  type NcclEndpoint,
  type NcclTransport,
  WEIGHT_TRANSFER_BACKENDS,
} from './serve/vllm-dev-routes.js';
export { type NcclInitInfo, type NcclUpdateInfo } from './serve/nccl-info.js';
