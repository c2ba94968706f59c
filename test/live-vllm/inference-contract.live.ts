// The inference contract of @differad/testing, against the real vLLM of the global setup.
import { defineInferenceContract } from '@differad/testing';
import * as vitest from 'vitest';

const live = vitest.inject('liveVllm');

defineInferenceContract(
  vitest,
  'vLLM 0.32.0 (CPU) serving a tiny random Qwen2-VL',
  // The global setup stops it.
  async () => ({ url: live.url, model: live.model, close: async () => {} }),
  { timeoutMs: 180_000 },
);
