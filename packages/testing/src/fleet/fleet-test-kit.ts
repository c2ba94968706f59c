/**
 * What the fleet's tests share (imported by tests only, not exported from
 * the package): a small grey pair image, a fast fake server's settings, and
 * a scope holding a test's fake fleet and fleet client, closed after each test.
 */
import type { Fleet } from '@differad/inference';
import { afterEach } from 'vitest';
import type { FakeFleet } from '../fake-vllm/fake-fleet.js';
import { createPngDataUrl } from '../images/png-data-url.js';

export const TEST_IMAGE = createPngDataUrl({ width: 8, height: 8, color: [90, 90, 90] });

/** A fake vLLM that answers at once. */
export const FAST = { model: 'm', tokensPerSecond: 20_000 } as const;

export interface FleetScope {
  fakes: FakeFleet | undefined;
  fleet: Fleet | undefined;
}

/** A scope whose fleet client and fake servers are closed after each test of the file. */
export function useFleetScope(): FleetScope {
  const scope: FleetScope = { fakes: undefined, fleet: undefined };
  afterEach(async () => {
    await scope.fleet?.close();
    await scope.fakes?.close();
    scope.fleet = scope.fakes = undefined;
  });
  return scope;
}
