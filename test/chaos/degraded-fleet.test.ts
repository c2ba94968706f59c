import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { createCpuTrainer, type CpuTrainer } from '@differad/cpu-trainer';
import { trainRun } from '@differad/orchestrator';
import { createRunStore } from '@differad/queue';
import { FakeVllmServer, type FakeVllmOptions } from '@differad/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { useTrainFixture } from '../e2e/train-harness.js';

// Two fake vLLM servers behind one run; server B is stopped mid-run and started again on its port.
const MODEL = 'fake-degraded';
const FAKE: FakeVllmOptions = { model: MODEL, slots: 64, tokensPerSecond: 20_000, prefillMsPerImage: 0 };

const fixture = useTrainFixture('differad-chaos-degraded-fleet-', { redis: true });
let servers: FakeVllmServer[] = [];
let trainer: CpuTrainer | undefined;

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await trainer?.close();
  servers = [];
  trainer = undefined;
});

async function startServer(port = 0): Promise<FakeVllmServer> {
  const server = await FakeVllmServer.start({ ...FAKE, port });
  servers.push(server);
  return server;
}

/** Two servers, a CPU trainer, and the run's config (disk sync: the trainer writes a policy file per version, the servers reload it). */
async function setUp(runId: string, steps: number, maxStaleness: number, minServers?: number) {
  const a = await startServer();
  const b = await startServer();
  trainer = createCpuTrainer({ stateDir: join(fixture.dir, runId, 'trainer') });
  const { url: trainerUrl } = await trainer.start();
  const config = TrainConfigSchema.parse({
    run: { id: runId, steps, seed: 5, runsDir: join(fixture.dir, 'runs') },
    data: { train: fixture.data.train },
    policy: { kind: 'endpoints', endpoints: [a.url, b.url], model: MODEL, ...(minServers === undefined ? {} : { minServers }) },
    trainer: { kind: 'url', url: trainerUrl },
    grpo: { groupSize: 2, pairsPerStep: 4, maxStaleness },
  });
  return { a, b, config };
}

/** The weight version of a policy file the CPU trainer wrote (`…/policy-v7.json`). */
const versionOf = (path: string | null) => Number(/policy-v(\d+)\.json$/.exec(path ?? '')?.[1] ?? Number.NaN);

/** A step row as the console prints it: the step number first. */
const isRowOf = (line: string, step: number) => new RegExp(`^\\s+${step}\\s+\\d+\\.\\d{3}\\s`).test(line);

// The on-policy loop, and the overlapped one, whose syncs are in-flight updates while the next step's rollouts run (docs/architecture.md §6.2).
describe.each([
  { mode: 'on-policy', maxStaleness: 0 },
  { mode: 'overlapped', maxStaleness: 1 },
])('a run over two inference servers when one goes down ($mode)', ({ maxStaleness }) => {
  it('goes on without it, never sends it rollouts while it is out, and re-syncs it before it serves again', async () => {
    const runId = `degraded-${maxStaleness}`;
    const { a, b, config } = await setUp(runId, 6, maxStaleness);
    const lines: string[] = [];
    // Where B is; an object, so the log callback's changes are seen after the run.
    const at: { phase: 'up' | 'down' | 'out' | 'back' } = { phase: 'up' };
    let restarting: Promise<FakeVllmServer> | undefined;
    /** Chat requests the restarted B received: in which phase, and whether it held the weights A held then. */
    const served: { phase: (typeof at)['phase']; path: string | null; current: string | null }[] = [];
    const log = (line: string) => {
      lines.push(line);
      if (at.phase === 'up' && isRowOf(line, 0)) {
        // Stopped between steps: step 1's rollouts fail over to A, step 1's sync finds B down.
        b.kill();
        at.phase = 'down';
      } else if (at.phase === 'down' && line.includes('out of the rollout pool')) {
        at.phase = 'out';
        restarting = startServer(b.port).then((again) => {
          again.on('request', () => served.push({ phase: at.phase, path: again.stats().weightsPath, current: a.stats().weightsPath }));
          return again;
        });
      } else if (at.phase === 'out' && line.includes(`${b.url} is back in the rollout pool`)) {
        at.phase = 'back';
      }
    };
    const result = await trainRun({ config, env: { DIFFERAD_REDIS_URL: fixture.redis.url }, log, signal: new AbortController().signal });
    await restarting;

    expect(result.state).toBe('completed');
    expect(result.rows.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    // The step rows show B out from step 1's sync on, and back in once it rejoined.
    expect(result.rows.map((r) => [r.servers_active, r.servers_out]).slice(0, 2)).toEqual([
      [2, 0],
      [1, 1],
    ]);
    const back = result.rows.findIndex((r, i) => i > 1 && r.servers_active === 2);
    expect(back).toBeGreaterThan(1);
    for (const r of result.rows.slice(back)) expect([r.servers_active, r.servers_out]).toEqual([2, 0]);
    // One warning line naming B and why, counting one server once.
    const warnings = lines.filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`^warning: step 1: 1 of 2 inference servers out of the rollout pool, going on with 1: ${b.url} \\(health check failed: `),
    );
    expect(at.phase).toBe('back');

    // The restarted B got no rollout before its re-sync, then served with the weights A held (the current version).
    expect(served.filter((s) => s.phase !== 'back')).toEqual([]);
    expect(served.length).toBeGreaterThan(0);
    for (const s of served) {
      expect(s.path).toMatch(/policy-v\d+\.json$/);
      // Overlapped, a request may reach B while a sync has loaded A and not yet B: one version apart at most.
      if (maxStaleness === 0) expect(s.path).toBe(s.current);
      else expect(Math.abs(versionOf(s.path) - versionOf(s.current))).toBeLessThanOrEqual(1);
    }
    const store = createRunStore(fixture.client);
    expect(await store.loadRun(runId)).toMatchObject({ state: 'completed', lastCompletedStep: 5, weightVersion: 6 });
  }, 60_000);

  it('with policy.minServers 2 stops at the sync with a resumable error naming the server and why', async () => {
    const runId = `too-few-${maxStaleness}`;
    const { b, config } = await setUp(runId, 4, maxStaleness, 2);
    const log = (line: string) => {
      if (isRowOf(line, 0)) b.kill();
    };
    const run = trainRun({ config, env: { DIFFERAD_REDIS_URL: fixture.redis.url }, log, signal: new AbortController().signal });
    const error = (await run.catch((e: unknown) => e)) as Error & { code?: string };
    expect(error.code).toBe('TRAIN_STEP_FAILED');
    expect(error.message).toContain('SYNC_TOO_FEW_SERVERS');
    expect(error.message).toContain(
      `step 1: 1 of 2 inference servers hold weight version 2, fewer than policy.minServers 2; out: ${b.url} (health check failed: `,
    );
    expect(error.message).toContain(`continue with: differad train --resume ${runId}`);
    const store = createRunStore(fixture.client);
    expect(await store.loadRun(runId)).toMatchObject({ state: 'failed', lastCompletedStep: 0 });
  }, 60_000);
});
