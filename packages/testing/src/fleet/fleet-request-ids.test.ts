import { isDifferadError } from '@differad/core';
import { type CompletionRequest, createFleet, toRequestIdHeader } from '@differad/inference';
import { describe, expect, it } from 'vitest';
import { startFakeFleet } from '../fake-vllm/fake-fleet.js';
import { FAST, TEST_IMAGE, useFleetScope } from './fleet-test-kit.js';

const request = (requestId: string, seed = 1): CompletionRequest => ({
  requestId,
  referenceImage: TEST_IMAGE,
  targetImage: TEST_IMAGE,
  prompt: 'Box the anomaly.',
  n: 1,
  seed,
  sampling: { temperature: 0, topP: 1, topK: -1, maxTokens: 16 },
});

const scope = useFleetScope();

describe('request ids in headers', () => {
  it('sends any UTF-8 id encoded, gets every answer, and ejects nobody', async () => {
    scope.fakes = await startFakeFleet([FAST, FAST]);
    const received: (string | null)[] = [];
    for (const s of scope.fakes.servers) s.on('request', ({ requestId }) => received.push(requestId));
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0, ejectAfterFailures: 1 });
    await scope.fleet.start();
    const ids = ['eval-缺陷-0001', 'eval-id with\nnewline', 'eval-🔥🐛', `eval-${'é'.repeat(300)}`, 'eval-plain-01'];
    const results = await Promise.all(ids.map((id, k) => scope.fleet!.complete(request(id, k))));
    expect(results.map((r) => [r.requestId, r.attempts])).toEqual(ids.map((id) => [id, 1]));
    expect(received.sort()).toEqual(ids.map(toRequestIdHeader).sort());
    expect(received).toContain('eval-plain-01');
    expect(scope.fleet.stats().servers.map((s) => [s.failures, s.ejected])).toEqual([
      [0, false],
      [0, false],
    ]);
  });

  it('throws a request it cannot build as INFERENCE_REQUEST_INVALID, sending nothing and blaming no server', async () => {
    scope.fakes = await startFakeFleet([FAST, FAST]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0, ejectAfterFailures: 1 });
    await scope.fleet.start();
    // A BigInt cannot be serialized to JSON: this client's bug, whatever the server.
    const unsendable = { ...request('eval-bad'), seed: 1n as unknown as number };
    for (let k = 0; k < 3; k++) {
      const error = await scope.fleet.complete(unsendable).catch((e: unknown) => e);
      expect(isDifferadError(error, 'INFERENCE_REQUEST_INVALID'), String(error)).toBe(true);
      expect(isDifferadError(error) && error.retryable).toBe(false);
    }
    expect(scope.fakes.servers.map((s) => s.stats().received)).toEqual([0, 0]);
    expect(scope.fleet.stats().servers.map((s) => [s.failures, s.consecutiveFailures, s.ejected])).toEqual([
      [0, 0, false],
      [0, 0, false],
    ]);
    expect((await scope.fleet.complete(request('eval-after'))).attempts).toBe(1);
  });
});
