import { createPngDataUrl, type FakeFleet, startFakeFleet } from '@differad/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompletionRequest } from '../chat/chat-request.js';
import { createFleet, type Fleet } from './fleet.js';

const image = createPngDataUrl({ width: 8, height: 8, color: [90, 90, 90] });
const request = (seed: number, servers?: readonly string[]): CompletionRequest => ({
  referenceImage: image,
  targetImage: image,
  prompt: 'Box the anomaly.',
  n: 2,
  seed,
  sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 32 },
  ...(servers === undefined ? {} : { servers }),
});
const FAST = { model: 'm', tokensPerSecond: 20_000 } as const;

let fakes: FakeFleet | undefined;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  await fakes?.close();
  fleet = fakes = undefined;
});

describe('a request limited to some servers (a run rollout pool)', () => {
  it('goes only to the listed servers, though the others are healthy and idle', async () => {
    fakes = await startFakeFleet([FAST, FAST, FAST]);
    const [a, b, c] = fakes.servers;
    fleet = createFleet({ servers: [...fakes.urls], model: 'm', metricsIntervalMs: 0 });
    await fleet.start();
    const results = await Promise.all(Array.from({ length: 12 }, (_, k) => fleet!.complete(request(k, [b!.url, `${c!.url}/v1`]))));
    expect(new Set(results.map((r) => r.server))).toEqual(new Set([b!.url, c!.url]));
    expect(a!.stats().received).toBe(0);
  });

  it('retries only among the listed servers and fails when they fail, never falling back to another one', async () => {
    fakes = await startFakeFleet([{ ...FAST, faults: { errorRate: 1 } }, FAST]);
    const [bad, good] = fakes.servers;
    fleet = createFleet({ servers: [...fakes.urls], model: 'm', metricsIntervalMs: 0, backoffBaseMs: 1, ejectAfterFailures: 2 });
    await expect(fleet.complete(request(1, [bad!.url]))).rejects.toMatchObject({ code: 'INFERENCE_UNAVAILABLE' });
    expect(good!.stats().received).toBe(0);
    // The listed server is ejected now: refused at once, naming the count of servers it could use.
    await expect(fleet.complete(request(2, [bad!.url]))).rejects.toThrow('no healthy server: the 1 of 2 it may use are ejected');
    expect((await fleet.complete(request(3))).server).toBe(good!.url);
  });

  it('refuses an empty list and a server the fleet does not have', async () => {
    fakes = await startFakeFleet([FAST]);
    fleet = createFleet({ servers: [...fakes.urls], model: 'm', metricsIntervalMs: 0 });
    await expect(fleet.complete(request(1, []))).rejects.toThrow('no server may serve it');
    await expect(fleet.complete(request(1, ['http://127.0.0.1:1']))).rejects.toMatchObject({ code: 'INFERENCE_CONFIG_INVALID' });
    expect(fakes.servers[0]!.stats().received).toBe(0);
  });
});
