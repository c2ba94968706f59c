import { defineInferenceContract } from '@differad/testing';
import * as vitest from 'vitest';
import { CpuPolicyServer } from './cpu-policy-server.js';

defineInferenceContract(
  vitest,
  'built-in CPU policy (@differad/cpu-policy)',
  async () => {
    const server = await CpuPolicyServer.start({ slots: 2, seed: 5 });
    return { url: server.url, model: server.modelName, close: () => server.close() };
  },
  // Its log-probs are densities of continuous parameters (on the first token), which may exceed 0.
  { timeoutMs: 10_000, logprobs: 'density' },
);
