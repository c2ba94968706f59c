import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDifferadError } from '@differad/core';
import { type CompletionRequest, createFleet, createVllmControl } from '@differad/inference';
import { createFakeNcclFabric, createPngDataUrl, type FakeNcclFabric, type FakeVllmOptions, FakeVllmServer } from '@differad/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type NcclSendOptions,
  type NcclSyncState,
  syncWeights,
  syncWeightsEach,
  syncWeightsNccl,
  toRankOffsets,
  type WeightSyncTarget,
} from './weight-sync.js';

// Every test runs against the strict fake vLLM (docs/vllm-protocol.md), with the trainer's NCCL broadcast replaced by the fake fabric.
const MANIFEST = { names: ['threshold.mean', 'threshold.log_std'], dtypes: ['float64', 'float64'], shapes: [[], []] };

const IMAGE = createPngDataUrl({ width: 8, height: 8, color: [1, 2, 3] });
/** One completion of a paired-image prompt. */
const PAIR: CompletionRequest = {
  referenceImage: IMAGE,
  targetImage: IMAGE,
  prompt: 'p',
  n: 1,
  seed: 1,
  sampling: { temperature: 1, topP: 1, topK: -1, maxTokens: 16 },
};

let servers: FakeVllmServer[] = [];
let targets: WeightSyncTarget[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-weight-sync-'));
  return () => rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(targets.map((t) => t.control.close()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  targets = [];
});

async function start(options: readonly FakeVllmOptions[]): Promise<void> {
  servers = await Promise.all(options.map((o) => FakeVllmServer.start({ tokensPerSecond: 10_000, ...o })));
  targets = servers.map((s) => ({ url: s.url, control: createVllmControl({ url: s.url, timeoutMs: 10_000 }) }));
}

/** The trainer's side: records every send's options, then joins/broadcasts on the fabric. */
function trainer(fabric: FakeNcclFabric) {
  const sends: NcclSendOptions[] = [];
  let failNext = false;
  const send = async (options: NcclSendOptions) => {
    sends.push(options);
    await fabric.trainerSend({ ...options, manifest: MANIFEST });
    // A failure the servers do not see (the HTTP reply lost after the broadcast): only the orchestrator learns of it.
    if (failNext) {
      failNext = false;
      throw new Error('trainer send broke');
    }
  };
  return { sends, send, failOnce: () => void (failNext = true) };
}

const nccl = (fabric: FakeNcclFabric): FakeVllmOptions => ({ weightTransferBackend: 'nccl', nccl: fabric.transport });
const source = (version: number, send: (o: NcclSendOptions) => Promise<unknown>) => ({
  version,
  manifest: MANIFEST,
  rendezvous: { master_address: 'trainer', master_port: 29_600 },
  packed: true,
  send,
});

describe('disk weight sync (collective_rpc reload_weights)', () => {
  it('reloads the folder on servers without a weight-transfer engine, resets the prefix cache and resumes', async () => {
    await start([{}, {}]);
    await syncWeights(targets, { version: 1, path: dir });
    for (const s of servers) expect(s.stats()).toMatchObject({ weightVersion: 1, paused: false });
  });

  it('fails with a retryable SYNC_FAILED on a folder that is not there and leaves the servers paused until a good reload', async () => {
    await start([{}, {}]);
    const error = await syncWeights(targets, { version: 2, path: join(dir, 'missing') }).catch((e: unknown) => e);
    expect(isDifferadError(error, 'SYNC_FAILED') && error.retryable).toBe(true);
    expect((error as Error).message).toContain('Call to collective_rpc method failed');
    // Resumed, the first request would run on layers left on the meta device and kill the engine.
    for (const s of servers) expect(s.stats()).toMatchObject({ weightVersion: 0, paused: true });
    await syncWeights(targets, { version: 2, path: dir });
    for (const s of servers) expect(s.stats()).toMatchObject({ weightVersion: 1, paused: false });
    const health = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/health`)).status));
    expect(health).toEqual([200, 200]);
  });

  it("labels each reload with the trainer's version, which a server's replies report; a restarted server reports none until it is synced", async () => {
    await start([{}]);
    const fleet = () => createFleet({ servers: [servers[0]!.url], model: 'differad-fake', metricsIntervalMs: 0 });
    const reported = async () => {
      const f = fleet();
      try {
        return (await f.complete(PAIR)).weightVersion;
      } finally {
        await f.close();
      }
    };
    await syncWeights(targets, { version: 4, path: dir });
    expect(await targets[0]!.control.weightInfo()).toBe('4');
    expect(await reported()).toBe(4);
    // Restarted on its port: a fresh engine ("default"), one load since, yet it claims no version of the run's.
    const port = servers[0]!.port;
    servers[0]!.kill();
    servers[0] = await FakeVllmServer.start({ tokensPerSecond: 10_000, port });
    expect(await targets[0]!.control.weightInfo()).toBe('default');
    expect(await reported()).toBeNull();
    await syncWeights(targets, { version: 5, path: dir });
    expect(servers[0]!.stats()).toMatchObject({ weightVersion: 1 });
    expect(await reported()).toBe(5);
  });

  it('counts a dead server once, with every call that failed on it, and syncs the live one', async () => {
    await start([{}, {}]);
    const [live, dead] = servers;
    dead!.kill();
    const results = await syncWeightsEach(targets, { version: 3, path: dir });
    expect(results[0]).toEqual({ url: live!.url, error: null });
    expect(results[1]!.error).toMatch(/^pause: .*; resume: /);
    expect(live!.stats()).toMatchObject({ weightVersion: 1, weightsPath: dir, paused: false });
    const error = await syncWeights(targets, { version: 3, path: dir }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(`^weight sync of version 3 failed on 1 of 2 server\\(s\\):\n  ${dead!.url}: pause: .*; resume: [^\n]*$`),
    );
    expect(isDifferadError(error, 'SYNC_FAILED') && error.details.servers).toEqual([dead!.url]);
  });
});

describe('nccl weight sync', () => {
  it('places each server at rank offsets from /get_world_size, agrees on packed, and sends update_info without version', async () => {
    const fabric = createFakeNcclFabric({ timeoutMs: 3_000 });
    await start([{ ...nccl(fabric), tensorParallel: 2 }, nccl(fabric)]);
    const t = trainer(fabric);
    await syncWeightsNccl(targets, source(3, t.send), { group: null });
    expect(t.sends).toEqual([{ master_address: 'trainer', master_port: 29_600, world_size: 4, packed: true, init: true }]);
    expect(fabric.broadcasts).toBe(1);
    for (const s of servers) expect(s.stats()).toMatchObject({ weightVersion: 1, paused: false });
  });

  it('reuses the group for the next version and re-creates it on both sides after a failure or in a fresh process', async () => {
    const fabric = createFakeNcclFabric({ timeoutMs: 3_000 });
    await start([nccl(fabric), nccl(fabric)]);
    const t = trainer(fabric);
    const state: NcclSyncState = { group: null };
    await syncWeightsNccl(targets, source(1, t.send), state);
    await syncWeightsNccl(targets, source(2, t.send), state);
    t.failOnce();
    const error = await syncWeightsNccl(targets, source(3, t.send), state).catch((e: unknown) => e);
    expect(isDifferadError(error, 'SYNC_FAILED') && error.retryable).toBe(true);
    expect(state.group).toBeNull();
    for (const s of servers) expect(s.stats().paused).toBe(false);
    await syncWeightsNccl(targets, source(3, t.send), state);
    // A second worker process knows no group: it re-initializes the servers that still hold the old one.
    await syncWeightsNccl(targets, source(4, t.send), { group: null });
    expect(t.sends.map((s) => s.init)).toEqual([true, false, false, true, true]);
    expect(fabric.waiting()).toEqual([]);
    expect(fabric.broadcasts).toBe(5);
  });

  it('refuses a manifest whose lists differ in length before touching any server', async () => {
    const fabric = createFakeNcclFabric({ timeoutMs: 3_000 });
    await start([nccl(fabric)]);
    const t = trainer(fabric);
    const bad = { ...source(1, t.send), manifest: { ...MANIFEST, dtypes: ['float64'] } };
    await expect(syncWeightsNccl(targets, bad, { group: null })).rejects.toMatchObject({ code: 'SYNC_FAILED' });
    expect(t.sends).toEqual([]);
    expect(servers[0]!.stats().paused).toBe(false);
  });

  it('fails without sending when a server has no weight-transfer engine (started without --weight-transfer-config)', async () => {
    const fabric = createFakeNcclFabric({ timeoutMs: 3_000 });
    await start([nccl(fabric), {}]);
    const t = trainer(fabric);
    const error = await syncWeightsNccl(targets, source(1, t.send), { group: null }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('Weight transfer not configured');
    expect(t.sends).toEqual([]);
    for (const s of servers) expect(s.stats()).toMatchObject({ weightVersion: 0, paused: false });
  });
});

describe('toRankOffsets', () => {
  it('puts the trainer at rank 0 and each server after the ranks of the ones before it', () => {
    expect(toRankOffsets([1, 1])).toEqual({ offsets: [1, 2], worldSize: 3 });
    expect(toRankOffsets([2, 4, 1])).toEqual({ offsets: [1, 3, 7], worldSize: 8 });
  });
});
