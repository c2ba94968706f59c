/** @differad/testing — test doubles: a fake vLLM server with a capacity model, scripted answers and fault injection; HTTP upload probes for servers; the inference contract suite. */
export { FakeVllmServer, startFakeVllm } from './fake-vllm/fake-vllm-server.js';
export { FakeVllmSettingsSchema, type FakeVllmSettings, type FakeVllmOptions } from './fake-vllm/fake-options.js';
export { ANSWER_POLICIES, type AnswerPolicyName, type BoxLookup, createBoxLookup, hashImageUrl } from './fake-vllm/answer-policy.js';
export { startFakeFleet } from './fake-vllm/fake-fleet.js';
export { type Rgb, createPngDataUrl } from './images/png-data-url.js';
export { postConcurrently } from './http/concurrent-posts.js';
export { uploadRawBody } from './http/raw-upload.js';
export { type FakeNcclFabric, createFakeNcclFabric } from './fake-vllm/fake-nccl.js';
export { defineInferenceContract } from './contract/inference-contract.js';
