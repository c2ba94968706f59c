import { type CompletionRequest, createFleet } from '@differad/inference';
import { describe, expect, it } from 'vitest';
import { startFakeFleet } from '../fake-vllm/fake-fleet.js';
import { FAST, TEST_IMAGE, useFleetScope } from './fleet-test-kit.js';

const request = (seed: number, servers?: readonly string[]): CompletionRequest => ({
  referenceImage: TEST_IMAGE,
  targetImage: TEST_IMAGE,
  prompt: 'Box the anomaly.',
  n: 2,
  seed,
  sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 32 },
  ...(servers === undefined ? {} : { servers }),
});

const scope = useFleetScope();

describe('a request limited to some servers (a run rollout pool)', () => {
  it('goes only to the listed servers, though the others are healthy and idle', async () => {
    scope.fakes = await startFakeFleet([FAST, FAST, FAST]);
    const [a, b, c] = scope.fakes.servers;
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0 });
    await scope.fleet.start();
    const results = await Promise.all(Array.from({ length: 12 }, (_, k) => scope.fleet!.complete(request(k, [b!.url, `${c!.url}/v1`]))));
    expect(new Set(results.map((r) => r.server))).toEqual(new Set([b!.url, c!.url]));
    expect(a!.stats().received).toBe(0);
  });

  it('retries only among the listed servers and fails when they fail, never falling back to another one', async () => {
    scope.fakes = await startFakeFleet([{ ...FAST, faults: { errorRate: 1 } }, FAST]);
    const [bad, good] = scope.fakes.servers;
    scope.fleet = createFleet({
      servers: [...scope.fakes.urls],
      model: 'm',
      metricsIntervalMs: 0,
      backoffBaseMs: 1,
      ejectAfterFailures: 2,
    });
    await expect(scope.fleet.complete(request(1, [bad!.url]))).rejects.toMatchObject({ code: 'INFERENCE_UNAVAILABLE' });
    expect(good!.stats().received).toBe(0);
    // The listed server is ejected now: refused at once, naming the count of servers it could use.
    const refused = (await scope.fleet.complete(request(2, [bad!.url])).catch((e: unknown) => e)) as Error;
    // Naming why: the failure that ejected it.
    expect(refused.message).toMatch(
      new RegExp(`^no healthy server: the 1 of 2 it may use are ejected \\(${bad!.url}: request req-\\d+: HTTP 500`),
    );
    expect((await scope.fleet.complete(request(3))).server).toBe(good!.url);
  });

  it('refuses an empty list and a server the fleet does not have', async () => {
    scope.fakes = await startFakeFleet([FAST]);
    scope.fleet = createFleet({ servers: [...scope.fakes.urls], model: 'm', metricsIntervalMs: 0 });
    await expect(scope.fleet.complete(request(1, []))).rejects.toThrow('no server may serve it');
    await expect(scope.fleet.complete(request(1, ['http://127.0.0.1:1']))).rejects.toMatchObject({ code: 'INFERENCE_CONFIG_INVALID' });
    expect(scope.fakes.servers[0]!.stats().received).toBe(0);
  });
});
