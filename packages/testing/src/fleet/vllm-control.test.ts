import { tmpdir } from 'node:os';
import { startServer } from '@differad/http-server';
import { createFleet, createVllmControl, type VllmControl } from '@differad/inference';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeVllmServer, startFakeVllm } from '../fake-vllm/fake-vllm-server.js';
import { createPngDataUrl } from '../images/png-data-url.js';

let server: FakeVllmServer | undefined;
let control: VllmControl | undefined;
afterEach(async () => {
  await control?.close();
  await server?.close();
  control = server = undefined;
});

const image = createPngDataUrl({ width: 8, height: 8, color: [1, 2, 3] });

describe('vLLM control endpoints', () => {
  it('lists models, pauses, resumes and reloads weights from disk, which completions report', async () => {
    server = await startFakeVllm({ model: 'm', tokensPerSecond: 20_000 });
    control = createVllmControl({ url: `${server.url}/v1/`, timeoutMs: 2_000 });
    expect(control.url).toBe(server.url);
    expect(await control.listModels()).toEqual([{ id: 'm', maxModelLen: 8192 }]);

    const fleet = createFleet({ servers: [server.url], model: 'm', metricsIntervalMs: 0 });
    try {
      await control.pause({ mode: 'wait' });
      expect(await control.isPaused()).toBe(true);
      const queued = server.next('request');
      const pending = fleet.complete({
        referenceImage: image,
        targetImage: image,
        prompt: 'p',
        n: 2,
        seed: 1,
        sampling: { temperature: 1, topP: 1, topK: -1, maxTokens: 16 },
      });
      await queued;
      expect(server.stats()).toMatchObject({ waiting: 2, running: 0 });

      expect(await control.getWorldSize()).toBe(1);
      await control.reloadWeights(tmpdir());
      await control.updateWeightVersion('1');
      expect(await control.weightInfo()).toBe('1');
      expect(await control.resetPrefixCache()).toBe(true);
      await control.resume();
      const result = await pending;
      expect(result.weightVersion).toBe(1);
      expect(await control.isPaused()).toBe(false);
    } finally {
      await fleet.close();
    }
  });

  it('maps a refused weight update to an error with the status vLLM answers', async () => {
    server = await startFakeVllm({ model: 'm' });
    control = createVllmControl({ url: server.url, timeoutMs: 2_000 });
    // No weight-transfer engine (no --weight-transfer-config): the worker fails it, a 500.
    await expect(control.updateWeights({ names: [], dtype_names: [], shapes: [] })).rejects.toMatchObject({ details: { status: 500 } });
    await expect(control.startWeightUpdate()).rejects.toThrow('Weight transfer not configured');
  });

  it('gives up at the deadline with INFERENCE_TIMEOUT', async () => {
    // A server that accepts and never answers stands in for a stuck control call.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const stuck = await startServer(
      new Hono().all('*', async (c) => {
        const signal = c.req.raw.signal;
        await Promise.race([released, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
        return c.body(null, 504);
      }),
      { host: '127.0.0.1', port: 0 },
    );
    control = createVllmControl({ url: stuck.url, timeoutMs: 50 });
    try {
      await expect(control.resume()).rejects.toMatchObject({ code: 'INFERENCE_TIMEOUT' });
    } finally {
      release();
      await stuck.close();
    }
  });
});
