import { TrainConfigSchema } from '@differad/config';
import type { FleetPool } from '@differad/core';
import { createVllmControl, type VllmControl } from '@differad/inference';
import type { FleetPoolStore } from '@differad/queue';
import { createFakeNcclFabric, type FakeNcclFabric, type FakeVllmOptions, FakeVllmServer } from '@differad/testing';
import { DifferadError } from '@differad/core';
import type { TrainerClient } from '@differad/trainer-client';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    // No folder: a member that restarts waits for the next sync, which the trainer sends.
    expect(h.pool()?.weightsPath).toBeUndefined();
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

describe('syncFleet over disk', () => {
  let dir = '';
  afterEach(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
    dir = '';
  });

  /** Two fake servers, a trainer whose export runs `exportWeights`, and every `/health` call in `events`. */
  async function diskHarness(exportWeights: (events: string[]) => Promise<void>, minServers = 1) {
    dir = await mkdtemp(join(tmpdir(), 'differad-sync-'));
    const a = await startServer({});
    const b = await startServer({});
    const events: string[] = [];
    let stored: FleetPool | null = null;
    const pools: FleetPoolStore = { load: () => Promise.resolve(stored), save: (_run, pool) => Promise.resolve(void (stored = pool)) };
    const trainer = {
      url: 'http://trainer:8200',
      sendWeights: async () => {
        await exportWeights(events);
        return { path: dir };
      },
    } as unknown as TrainerClient;
    const config = TrainConfigSchema.parse({
      data: { train: 'x.jsonl' },
      policy: { kind: 'endpoints', endpoints: [a.url, b.url], model: 'm', syncBackend: 'disk', minServers },
    });
    targets = [a, b].map((server) => {
      const control = createVllmControl({ url: server.url, timeoutMs: 5_000 });
      const watched: VllmControl = {
        ...control,
        health: async (timeoutMs) => {
          events.push('health started');
          await control.health(timeoutMs);
          events.push('health done');
        },
      };
      return { url: server.url, control: watched };
    });
    const deps = { runId: 'run-d', config, trainer, targets, pools, log: () => undefined };
    return { deps, a, b, events, pool: () => stored };
  }

  it("checks the servers' health while the trainer exports the weights, not before or after", async () => {
    const h = await diskHarness(async (events) => {
      events.push('export started');
      // Up to 2 s for both health checks to start while the export runs (a sync that checks them after the export starts none).
      for (let waited = 0; events.filter((e) => e === 'health started').length < 2 && waited < 2_000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      events.push('export done');
    });
    const decision = await syncFleet(h.deps, { step: 0, version: 1 }, { group: null });
    expect(decision?.active).toEqual([h.a.url, h.b.url]);
    // They overlap: the export starts before the health checks are done, and they start before it is done.
    expect(h.events.indexOf('export started')).toBeLessThan(h.events.lastIndexOf('health done'));
    expect(h.events.indexOf('health started')).toBeLessThan(h.events.indexOf('export done'));
    expect([h.a.stats().weightsPath, h.b.stats().weightsPath]).toEqual([dir, dir]);
    // The pool records the folder: a member that restarts before the next sync is loaded from it again.
    expect(h.pool()).toMatchObject({ version: 1, weightsPath: dir });
  });

  it("fails with the trainer's error when the export fails, leaving every server unpaused on its old weights", async () => {
    const h = await diskHarness(() => Promise.reject(new DifferadError('TRAINER_UNAVAILABLE', 'trainer: connection refused')));
    const error = await syncFleet(h.deps, { step: 0, version: 1 }, { group: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRAINER_UNAVAILABLE' });
    for (const server of [h.a, h.b]) expect(server.stats()).toMatchObject({ paused: false, weightsPath: null });
    expect(h.pool()).toBeNull();
  });

  it('with no healthy server, names the servers out, not the export that had no server to take it', async () => {
    const h = await diskHarness(() => Promise.reject(new DifferadError('TRAINER_UNAVAILABLE', 'trainer: connection refused')));
    h.a.kill();
    h.b.kill();
    const error = await syncFleet(h.deps, { step: 3, version: 4 }, { group: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SYNC_TOO_FEW_SERVERS', retryable: false });
    expect((error as Error).message).toContain(`out: ${h.a.url} (health check failed: `);
  });
});
