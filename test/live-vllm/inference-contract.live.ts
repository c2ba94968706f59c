// The inference contract of packages/inference, against the real vLLM of the global setup.
// The contract is not part of @differad/inference's public surface (it loads vitest), so it is
// reached by path, as apps/cpu-policy's contract test does.
import { inject } from 'vitest';
// eslint-disable-next-line no-restricted-imports
import { defineInferenceContract } from '../../packages/inference/src/contract/inference-contract.js';

const live = inject('liveVllm');

defineInferenceContract(
  'vLLM 0.32.0 (CPU) serving a tiny random Qwen2-VL',
  // The global setup stops it.
  async () => ({ url: live.url, model: live.model, close: async () => {} }),
  { timeoutMs: 180_000 },
);
