/** @differad/testing — test doubles: a fake vLLM server with a capacity model, scripted answers and fault injection; HTTP upload probes for servers; the inference contract suite. */
export {
  FakeVllmServer,
  type FakeVllmEvents,
  type FakeVllmStats,
  startFakeVllm,
} from './fake-vllm/fake-vllm-server.js';
export {
  FakeFaultsSchema,
  type FakeFaults,
  FakeVllmSettingsSchema,
  type FakeVllmSettings,
  type FakeVllmOptions,
} from './fake-vllm/fake-options.js';
export {
  ANSWER_POLICIES,
  type AnswerPolicyName,
  type AnswerContext,
  type AnswerPolicy,
  type BoxLookup,
  DEFAULT_CONSTANT_ANSWER,
  createAnswerPolicy,
  createBoxLookup,
  formatAnswer,
  hashImageUrl,
} from './fake-vllm/answer-policy.js';
export { type FakeFleet, startFakeFleet } from './fake-vllm/fake-fleet.js';
export { type PngOptions, type Rgb, createPngDataUrl } from './images/png-data-url.js';
export { type ConcurrentPostOptions, postConcurrently } from './http/concurrent-posts.js';
export { type RawUploadOptions, type RawUploadResult, uploadRawBody } from './http/raw-upload.js';
export { type FakeNcclFabric, type FakeNcclSend, createFakeNcclFabric } from './fake-vllm/fake-nccl.js';
export {
  type InferenceContractOptions,
  type InferenceContractServer,
  type InferenceContractTestApi,
  createContractPair,
  defineInferenceContract,
} from './contract/inference-contract.js';
