import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CPU_POLICY } from '@differad/core';
import { defineInferenceContract } from '@differad/testing';
import * as vitest from 'vitest';
import { CpuPolicyServer } from './cpu-policy-server.js';

defineInferenceContract(
  vitest,
  'built-in CPU policy (@differad/cpu-policy)',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'differad-cpu-policy-contract-'));
    const weightsPath = join(dir, 'policy.json');
    await writeFile(weightsPath, JSON.stringify(DEFAULT_CPU_POLICY));
    const server = await CpuPolicyServer.start({ slots: 2, seed: 5 });
    const close = async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    };
    return { url: server.url, model: server.modelName, weightsPath, close };
  },
  // Its log-probs are densities of continuous parameters (on the first token), which may exceed 0.
  { timeoutMs: 10_000, logprobs: 'density', killable: true },
);
