import { TrainConfigSchema } from '@differad/config';
import type { FleetPool } from '@differad/core';
import type { CompletionRequest, Fleet } from '@differad/inference';
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { GroupStore } from './group-store.js';
import { createRolloutProcessor, type RolloutReads } from './rollout-worker.js';
import type { RunContext } from './run-context.js';

const A = 'http://127.0.0.1:8001';
const B = 'http://127.0.0.1:8002';

/** What the fleet was asked: the request is kept and the rollout stops there (nothing after it is this test's). */
class Asked extends Error {
  constructor(readonly request: CompletionRequest) {
    super('asked');
  }
}

/** A run context with just what a rollout reads before it asks the fleet: two servers that take weight syncs. */
function contextOver(maxStaleness: number): RunContext {
  const config = TrainConfigSchema.parse({
    run: { id: 'r' },
    data: { train: 'train.jsonl' },
    policy: { kind: 'endpoints', endpoints: [A, B], model: 'm', syncBackend: 'disk' },
    trainer: { kind: 'url', url: 'http://127.0.0.1:9' },
    grpo: { maxStaleness },
  });
  const frame = { dataUrl: 'data:,', width: 8, height: 8 };
  const fleet = {
    complete: async (request: CompletionRequest) => {
      throw new Asked(request);
    },
    stats: () => ({ servers: [], queued: 0 }),
    refresh: async () => undefined,
  } as unknown as Fleet;
  return {
    runId: 'r',
    config,
    records: [{ id: 'p0', class: 'c', reference: 'r.png', target: 't.png', width: 8, height: 8, box: null }],
    pairIndex: new Map([['p0', 0]]),
    resolvePath: (entry: string) => entry,
    preparer: { preparePair: async () => ({ reference: frame, target: frame }) },
    prompt: () => ({ system: 's', prompt: 'p' }),
    fleet,
    syncTargets: [{ url: A }, { url: B }],
  } as unknown as RunContext;
}

/** The request a rollout of step 1 at weight version `version` sends, with the run's pool as `pool`. */
async function requestOf(pool: FleetPool | null, version: number, maxStaleness = 0): Promise<CompletionRequest> {
  const reads: RolloutReads = {
    store: { loadRound: async () => null },
    pools: { load: async () => pool } as unknown as RolloutReads['pools'],
  };
  const rollout = createRolloutProcessor(contextOver(maxStaleness), null as unknown as GroupStore, reads);
  const payload = { runId: 'r', step: 1, pairIndex: 0, pairId: 'p0', attempt: 0, seed: 5, weightVersion: version };
  const error = await rollout(payload, {} as Job).catch((e: unknown) => e);
  if (!(error instanceof Asked)) throw error;
  return error.request;
}

describe('a rollout of a run whose servers take weight syncs', () => {
  it('goes to the servers a sync put in the pool at its version, asking the fleet to refuse a restarted (unlabelled) one', async () => {
    const pool: FleetPool = {
      step: 0,
      version: 1,
      members: [
        { url: A, state: 'in', version: 1 },
        { url: B, state: 'out', version: null, reason: 'weight sync failed: x' },
      ],
    };
    // On-policy, the version too: nothing after the fleet would see a reply from older weights.
    expect(await requestOf(pool, 1)).toMatchObject({ servers: [A], syncedWeights: true, minWeightVersion: 1 });
    // Overlapped, the staleness rule judges an older version (sampled again): only a lost label is refused.
    const overlapped = await requestOf(pool, 1, 1);
    expect(overlapped).toMatchObject({ servers: [A], syncedWeights: true });
    expect(overlapped.minWeightVersion).toBeUndefined();
  });

  it('asks nothing of the weights before the first sync or after an all-or-nothing one (every server, the same weights)', async () => {
    const first = await requestOf(null, 0);
    expect(first.servers).toEqual([A, B]);
    expect(first.syncedWeights).toBeUndefined();
    expect(first.minWeightVersion).toBeUndefined();
    const restored = await requestOf({ step: 4, version: 5, members: [{ url: A, state: 'in', version: 5 }] }, 3);
    expect(restored.servers).toEqual([A, B]);
    expect(restored.syncedWeights).toBeUndefined();
  });
});
