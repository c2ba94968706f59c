// The inference contract of @differad/testing, against the real vLLM of the global setup.
import { defineInferenceContract } from '@differad/testing';
import * as vitest from 'vitest';

const live = vitest.inject('liveVllm');

defineInferenceContract(
  vitest,
  'vLLM 0.32.0 (CPU) serving a tiny random Qwen2-VL',
  // The global setup stops it; the reload test goes back to the checkpoint it started with.
  async () => ({ url: live.url, model: live.model, weightsPath: live.checkpoint, close: async () => {} }),
  { timeoutMs: 180_000 },
);
