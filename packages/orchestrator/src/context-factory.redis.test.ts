import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { createFleetPoolStore, DEFAULT_JOB_SETTINGS, type CatalogQueues, type RedisFixture, startRedisFixture } from '@differad/queue';
import { createPngDataUrl, FakeVllmServer } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunContext, type ResolvedTrainConfig } from './context-factory.js';
import type { RunContext } from './run-context.js';

let redis: RedisFixture;
let dir: string;

beforeAll(async () => {
  redis = await startRedisFixture();
  dir = await mkdtemp(join(tmpdir(), 'differad-context-'));
  await writeFile(
    join(dir, 'train.jsonl'),
    `${JSON.stringify({ id: 'p0', class: 'c', reference: 'r.png', target: 't.png', width: 8, height: 8, box: null })}\n`,
  );
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Waits up to 5 s for `check` to hold. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One restart of B in a run whose last sync put A and B in the pool at version 4 (from `weightsPath`, a disk export, when given). */
interface Restart {
  readonly ctx: RunContext;
  readonly lines: string[];
  readonly b: () => FakeVllmServer;
  readonly bStats: () => ReturnType<RunContext['fleet']['stats']>['servers'][number];
}

async function withRestartedServer(runId: string, weightsPath: string | undefined, body: (r: Restart) => Promise<void>): Promise<void> {
  const a = await FakeVllmServer.start({ model: 'm', tokensPerSecond: 50_000 });
  let b = await FakeVllmServer.start({ model: 'm', tokensPerSecond: 50_000 });
  const lines: string[] = [];
  const config = TrainConfigSchema.parse({
    run: { id: runId, runsDir: join(dir, 'runs') },
    data: { train: join(dir, 'train.jsonl') },
    policy: { kind: 'endpoints', endpoints: [a.url, b.url], model: 'm', syncBackend: 'disk' },
    trainer: { kind: 'url', url: 'http://127.0.0.1:9' },
  }) as ResolvedTrainConfig;
  let ctx: RunContext | undefined;
  try {
    ctx = await buildRunContext(runId, config, {
      redis: redis.producer,
      store: null as never,
      queues: { queues: {}, settings: DEFAULT_JOB_SETTINGS } as unknown as CatalogQueues,
      log: (line) => lines.push(line),
    });
    // The last sync put both servers in the pool at version 4 and labelled them so.
    for (const t of ctx.syncTargets) await t.control.updateWeightVersion('4');
    await createFleetPoolStore(redis.producer).save(runId, {
      step: 3,
      version: 4,
      members: [
        { url: a.url, state: 'in', version: 4 },
        { url: b.url, state: 'in', version: 4 },
      ],
      ...(weightsPath === undefined ? {} : { weightsPath }),
    });
    const fleet = ctx.fleet;
    const bStats = () => fleet.stats().servers[1]!;
    // B goes down: the fleet ejects it after its failures.
    const port = b.port;
    b.kill();
    const pair = {
      referenceImage: 'data:,',
      targetImage: 'data:,',
      prompt: 'p',
      n: 1,
      sampling: { temperature: 1, topP: 1, topK: -1, maxTokens: 8 },
    };
    for (let k = 0; k < 5 && !bStats().ejected; k++) await fleet.complete({ ...pair, seed: k, servers: [b.url] }).catch(() => undefined);
    expect(bStats().ejected).toBe(true);
    // Back on its port with its starting weights ("default").
    b = await FakeVllmServer.start({ model: 'm', tokensPerSecond: 50_000, port });
    await body({ ctx, lines, b: () => b, bStats });
  } finally {
    await ctx?.fleet.close();
    for (const t of ctx?.syncTargets ?? []) await t.control.close();
    await ctx?.trainer.close();
    await Promise.all([a.close(), b.close()]);
  }
}

describe("a run's fleet when a server of the rollout pool restarts between syncs", () => {
  it('after an nccl sync (no folder to load), keeps it out of rollouts until it reports the version the pool holds it at, and says why', async () => {
    await withRestartedServer('restart-between-syncs', undefined, async ({ ctx, lines, b, bStats }) => {
      // /health answers, the check does not.
      await ctx.fleet.refresh();
      expect(bStats().ejected).toBe(true);
      // Refused again at each probe, said once.
      await ctx.fleet.refresh();
      expect(bStats().ejected).toBe(true);
      expect(lines).toEqual([
        `warning: ${b().url} answers /health again but takes no rollout: it reports weight version "default", not the pool's 4 (restarted since its last sync?): out until the next sync`,
      ]);
      // The next sync loads and labels it: back in.
      await ctx.syncTargets[1]!.control.updateWeightVersion('5');
      await ctx.fleet.refresh();
      await until(() => !bStats().ejected, 'B back in the fleet');
    });
  }, 30_000);

  it('after a disk sync, loads it again from the folder the pool records and lets it in at once', async () => {
    const folder = await mkdtemp(join(dir, 'export-v4-'));
    await withRestartedServer('restart-reloaded', folder, async ({ ctx, lines, b, bStats }) => {
      expect(b().stats()).toMatchObject({ weightsPath: null });
      await ctx.fleet.refresh();
      await until(() => !bStats().ejected, 'B back in the fleet');
      expect(b().stats()).toMatchObject({ weightsPath: folder, paused: false });
      expect(await ctx.syncTargets[1]!.control.weightInfo()).toBe('4');
      expect(lines).toEqual([
        `fleet: ${b().url} had lost the weights of its last sync (restarted?): loaded weight version 4 again from ${folder}`,
      ]);
      // A rollout for the synced weights goes to it and is answered from them.
      const image = createPngDataUrl({ width: 8, height: 8, color: [128, 128, 128] });
      const reply = await ctx.fleet.complete({
        referenceImage: image,
        targetImage: image,
        prompt: 'p',
        n: 1,
        seed: 1,
        sampling: { temperature: 1, topP: 1, topK: -1, maxTokens: 8 },
        servers: [b().url],
        syncedWeights: true,
        minWeightVersion: 4,
      });
      expect(reply.weightVersion).toBe(4);
    });
  }, 30_000);

  it('keeps it out, saying why, when the folder cannot be loaded (removed since)', async () => {
    const folder = join(dir, 'export-removed');
    await withRestartedServer('restart-not-reloaded', folder, async ({ ctx, lines, b, bStats }) => {
      await ctx.fleet.refresh();
      expect(bStats().ejected).toBe(true);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(
        `warning: ${b().url} answers /health again but takes no rollout: it reports weight version "default", not the pool's 4 (restarted since its last sync?): out until the next sync; loading it again from ${folder} failed: reload_weights: `,
      );
      // Left paused: vLLM's layers are not to be trusted after a failed load.
      expect(b().stats()).toMatchObject({ paused: true, weightsPath: null });
    });
  }, 30_000);
});
