import { tmpdir } from 'node:os';
import { createVllmControl } from '@differad/inference';
import * as vitest from 'vitest';
import { startFakeVllm } from '../fake-vllm/fake-vllm-server.js';
import { defineInferenceContract } from './inference-contract.js';

defineInferenceContract(
  vitest,
  'fake vLLM (@differad/testing)',
  async () => {
    const server = await startFakeVllm({ model: 'contract-model', tokensPerSecond: 50_000, prefillMsPerImage: 0, seed: 'contract' });
    // Any folder reloads (the fake reads no weights), so the reload test runs; the last test may kill it.
    return { url: server.url, model: server.model, weightsPath: tmpdir(), close: () => server.close() };
  },
  { killable: true },
);

// The live suite is registered only when a server is named; otherwise the run says so.
const liveUrl = process.env.DIFFERAD_LIVE_VLLM_URL;
if (liveUrl) {
  defineInferenceContract(
    vitest,
    `live vLLM at ${liveUrl}`,
    async () => {
      let model = process.env.DIFFERAD_LIVE_VLLM_MODEL;
      if (!model) {
        const control = createVllmControl({ url: liveUrl, timeoutMs: 30_000 });
        try {
          model = (await control.listModels())[0]?.id;
        } finally {
          await control.close();
        }
      }
      if (!model) throw new Error(`${liveUrl}/v1/models lists no model`);
      const weightsPath = process.env.DIFFERAD_LIVE_VLLM_WEIGHTS;
      if (!weightsPath)
        throw new Error(
          'set DIFFERAD_LIVE_VLLM_WEIGHTS to the checkpoint folder the server at DIFFERAD_LIVE_VLLM_URL loaded (the reload test reloads it)',
        );
      // Not ours to stop.
      return { url: liveUrl, model, weightsPath, close: async () => {} };
    },
    { timeoutMs: 180_000 },
  );
} else {
  console.warn(
    '\n*** live vLLM contract NOT run: set DIFFERAD_LIVE_VLLM_URL=http://host:8000 ' +
      'and DIFFERAD_LIVE_VLLM_WEIGHTS=<its checkpoint folder> (and optionally DIFFERAD_LIVE_VLLM_MODEL) to run the same contract against a real server ***\n',
  );
}
