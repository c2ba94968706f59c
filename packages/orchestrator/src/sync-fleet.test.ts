import { TrainConfigSchema } from '@differad/config';
import type { FleetPool } from '@differad/core';
import { createVllmControl } from '@differad/inference';
import type { FleetPoolStore } from '@differad/queue';
import { createFakeNcclFabric, type FakeNcclFabric, type FakeVllmOptions, FakeVllmServer } from '@differad/testing';
import type { TrainerClient } from '@differad/trainer-client';
import { afterEach, describe, expect, it } from 'vitest';
import { syncFleet } from './sync-fleet.js';
import type { NcclSendOptions, NcclSyncState, WeightSyncTarget } from './weight-sync.js';

// The nccl path of the degraded-fleet sync against strict fake vLLM servers; the disk path runs end to end in test/chaos/degraded-fleet.test.ts.
const MANIFEST = { names: ['threshold.mean'], dtypes: ['float64'], shapes: [[]] };

let servers: FakeVllmServer[] = [];
let targets: WeightSyncTarget[] = [];
afterEach(async () => {
  await Promise.all(targets.map((t) => t.control.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  targets = [];
});

async function startServer(options: FakeVllmOptions): Promise<FakeVllmServer> {
  const server = await FakeVllmServer.start({ tokensPerSecond: 10_000, ...options });
  servers.push(server);
  return server;
}

/** The run's side: an in-memory pool store, a trainer that broadcasts on the fabric, the log. */
function harness(fabric: FakeNcclFabric, urls: readonly string[], minServers = 1) {
  let stored: FleetPool | null = null;
  const pools: FleetPoolStore = { load: () => Promise.resolve(stored), save: (_run, pool) => Promise.resolve(void (stored = pool)) };
  const sends: NcclSendOptions[] = [];
  const trainer = {
    url: 'http://trainer:8200',
    weightsManifest: () => Promise.resolve(MANIFEST),
    sendWeights: async (request: { options?: object }) => {
      const options = request.options as NcclSendOptions;
      sends.push(options);
      await fabric.trainerSend({ ...options, manifest: MANIFEST });
      return {};
    },
  } as unknown as TrainerClient;
  const config = TrainConfigSchema.parse({
    data: { train: 'x.jsonl' },
    policy: { kind: 'endpoints', endpoints: urls, model: 'm', syncBackend: 'nccl', minServers },
  });
  targets = urls.map((url) => ({ url, control: createVllmControl({ url, timeoutMs: 5_000 }) }));
  const lines: string[] = [];
  const state: NcclSyncState = { group: null };
  const deps = { runId: 'run-n', config, trainer, targets, pools, log: (l: string) => void lines.push(l) };
  return { deps, sends, lines, state, pool: () => stored };
}

describe('syncFleet over nccl', () => {
  it('re-creates the group without a server that went down, and with it again once it is back and re-synced', async () => {
    const fabric = createFakeNcclFabric({ timeoutMs: 3_000 });
    const nccl: FakeVllmOptions = { weightTransferBackend: 'nccl', nccl: fabric.transport };
    const a = await startServer(nccl);
    const b = await startServer(nccl);
    const h = harness(fabric, [a.url, b.url]);

    expect((await syncFleet(h.deps, { step: 0, version: 1 }, h.state))?.active).toEqual([a.url, b.url]);
    b.kill();
    const degraded = await syncFleet(h.deps, { step: 1, version: 2 }, h.state);
    expect(degraded).toMatchObject({ kind: 'continue', active: [a.url], left: [b.url] });
    expect(h.lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: step 1: 1 of 2 inference servers out of the rollout pool, going on with 1: ${b.url} \\(health check failed: `,
        ),
      ),
    ]);

    const again = await startServer({ ...nccl, port: b.port });
    const back = await syncFleet(h.deps, { step: 2, version: 3 }, h.state);
    expect(back).toMatchObject({ active: [a.url, b.url], rejoined: [b.url] });
    expect(h.lines[1]).toBe(`fleet: ${b.url} is back in the rollout pool, re-synced to weight version 3`);
    // Each change of membership re-created the group on both sides, with the world size of its members.
    expect(h.sends.map((s) => [s.world_size, s.init])).toEqual([
      [3, true],
      [2, true],
      [3, true],
    ]);
    expect(again.stats()).toMatchObject({ weightVersion: 1, paused: false });
    expect(h.pool()?.members.map((m) => [m.state, m.version])).toEqual([
      ['in', 3],
      ['in', 3],
    ]);
    expect(fabric.waiting()).toEqual([]);
  });

  it('drops a healthy server whose nccl sync fails and retries the others at once in a new group', async () => {
    const fabric = createFakeNcclFabric({ timeoutMs: 3_000 });
    const a = await startServer({ weightTransferBackend: 'nccl', nccl: fabric.transport });
    const noEngine = await startServer({});
    const h = harness(fabric, [a.url, noEngine.url]);
    const decision = await syncFleet(h.deps, { step: 0, version: 1 }, h.state);
    expect(decision?.active).toEqual([a.url]);
    expect(decision?.out[0]?.reason).toMatch(/^weight sync failed: start_weight_update: .*Weight transfer not configured/);
    expect(h.sends.map((s) => s.world_size)).toEqual([2]);
    expect(a.stats()).toMatchObject({ weightVersion: 1, paused: false });
    expect(noEngine.stats().paused).toBe(false);
  });

  it('fails below policy.minServers with a non-retryable, resumable error naming the server out', async () => {
    const fabric = createFakeNcclFabric({ timeoutMs: 3_000 });
    const a = await startServer({ weightTransferBackend: 'nccl', nccl: fabric.transport });
    const b = await startServer({ weightTransferBackend: 'nccl', nccl: fabric.transport });
    const h = harness(fabric, [a.url, b.url], 2);
    b.kill();
    const error = await syncFleet(h.deps, { step: 4, version: 5 }, h.state).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SYNC_TOO_FEW_SERVERS', retryable: false, details: { resumable: true, active: [a.url] } });
    expect((error as Error).message).toContain(
      `step 4: 1 of 2 inference servers hold weight version 5, fewer than policy.minServers 2; out: ${b.url} (health check failed: `,
    );
    expect(h.pool()?.members.map((m) => m.state)).toEqual(['in', 'out']);
  });
});
