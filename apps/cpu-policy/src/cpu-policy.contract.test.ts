// The inference contract lives beside the fleet client and is not part of its public surface (it loads
// vitest and @differad/testing), so this app's test reaches it by path, the one such import in the repo.
// eslint-disable-next-line no-restricted-imports
import { defineInferenceContract } from '../../../packages/inference/src/contract/inference-contract.js';
import { CpuPolicyServer } from './cpu-policy-server.js';

defineInferenceContract(
  'built-in CPU policy (@differad/cpu-policy)',
  async () => {
    const server = await CpuPolicyServer.start({ slots: 2, seed: 5 });
    return { url: server.url, model: server.modelName, close: () => server.close() };
  },
  // Its log-probs are densities of continuous parameters (on the first token), which may exceed 0.
  { timeoutMs: 10_000, logprobs: 'density' },
);
