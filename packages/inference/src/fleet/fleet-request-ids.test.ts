import { isDifferadError } from '@differad/core';
import { createPngDataUrl, type FakeFleet, startFakeFleet } from '@differad/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompletionRequest } from '../chat/chat-request.js';
import { toRequestIdHeader } from '../http/request-id-header.js';
import { createFleet, type Fleet } from './fleet.js';

const image = createPngDataUrl({ width: 8, height: 8, color: [90, 90, 90] });
const request = (requestId: string, seed = 1): CompletionRequest => ({
  requestId,
  referenceImage: image,
  targetImage: image,
  prompt: 'Box the anomaly.',
  n: 1,
  seed,
  sampling: { temperature: 0, topP: 1, topK: -1, maxTokens: 16 },
});
const FAST = { model: 'm', tokensPerSecond: 20_000 } as const;

let fakes: FakeFleet | undefined;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  await fakes?.close();
  fleet = fakes = undefined;
});

describe('request ids in headers', () => {
  it('sends any UTF-8 id encoded, gets every answer, and ejects nobody', async () => {
    fakes = await startFakeFleet([FAST, FAST]);
    const received: (string | null)[] = [];
    for (const s of fakes.servers) s.on('request', ({ requestId }) => received.push(requestId));
    fleet = createFleet({ servers: [...fakes.urls], model: 'm', metricsIntervalMs: 0, ejectAfterFailures: 1 });
    await fleet.start();
    const ids = ['eval-缺陷-0001', 'eval-id with\nnewline', 'eval-🔥🐛', `eval-${'é'.repeat(300)}`, 'eval-plain-01'];
    const results = await Promise.all(ids.map((id, k) => fleet!.complete(request(id, k))));
    expect(results.map((r) => [r.requestId, r.attempts])).toEqual(ids.map((id) => [id, 1]));
    expect(received.sort()).toEqual(ids.map(toRequestIdHeader).sort());
    expect(received).toContain('eval-plain-01');
    expect(fleet.stats().servers.map((s) => [s.failures, s.ejected])).toEqual([
      [0, false],
      [0, false],
    ]);
  });

  it('throws a request it cannot build as INFERENCE_REQUEST_INVALID, sending nothing and blaming no server', async () => {
    fakes = await startFakeFleet([FAST, FAST]);
    fleet = createFleet({ servers: [...fakes.urls], model: 'm', metricsIntervalMs: 0, ejectAfterFailures: 1 });
    await fleet.start();
    // A BigInt cannot be serialized to JSON: this client's bug, whatever the server.
    const unsendable = { ...request('eval-bad'), seed: 1n as unknown as number };
    for (let k = 0; k < 3; k++) {
      const error = await fleet.complete(unsendable).catch((e: unknown) => e);
      expect(isDifferadError(error, 'INFERENCE_REQUEST_INVALID'), String(error)).toBe(true);
      expect(isDifferadError(error) && error.retryable).toBe(false);
    }
    expect(fakes.servers.map((s) => s.stats().received)).toEqual([0, 0]);
    expect(fleet.stats().servers.map((s) => [s.failures, s.consecutiveFailures, s.ejected])).toEqual([
      [0, 0, false],
      [0, 0, false],
    ]);
    expect((await fleet.complete(request('eval-after'))).attempts).toBe(1);
  });
});
