/**
 * The run store is the trainer's source of truth (docs/architecture.md §4.4).
 * Oracle: a seeded reference run; a correct run reproduces its rows (timings
 * aside) whatever was restarted in between, with weight_version = step + 1.
 */
import { join } from 'node:path';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import { CpuPolicyServer } from '@differad/cpu-policy';
import { type CpuTrainer, createCpuTrainer } from '@differad/cpu-trainer';
import { trainRun, type TrainRunResult } from '@differad/orchestrator';
import { afterEach, describe, expect, it } from 'vitest';
import { readMetricsFile, useTrainFixture } from '../e2e/train-harness.js';
import { stepRow, withoutTimings } from './trainer-chaos.js';

const fixture = useTrainFixture('differad-chaos-restore-', { redis: true });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const runsDir = () => join(fixture.dir, 'runs');

/** A CPU trainer of the test on `port` (0: a free one) with its state under the test folder; closed after the test. */
async function startTrainer(name: string, port = 0): Promise<{ trainer: CpuTrainer; url: string; port: number }> {
  const trainer = createCpuTrainer({ stateDir: join(fixture.dir, 'trainers', name), port });
  const address = await trainer.start();
  cleanups.push(() => trainer.close());
  return { trainer, ...address };
}

/** A long-lived CPU policy server (what an endpoint fleet looks like), closed after the test. */
async function startPolicyServer(port = 0): Promise<CpuPolicyServer> {
  const server = await CpuPolicyServer.start({ seed: 5, port });
  cleanups.push(() => server.close());
  return server;
}

interface RunSetup {
  readonly steps: number;
  readonly trainerUrl: string;
  /** Long-lived policy servers; without them the run starts its own CPU policy server. */
  readonly endpoints?: readonly string[];
  readonly checkpointEvery?: number;
  readonly heldOut?: boolean;
}

function toConfig(runId: string, s: RunSetup): TrainConfig {
  return TrainConfigSchema.parse({
    run: {
      id: runId,
      steps: s.steps,
      seed: 5,
      runsDir: runsDir(),
      ...(s.checkpointEvery === undefined ? {} : { checkpointEvery: s.checkpointEvery }),
    },
    data: { train: fixture.data.train, ...(s.heldOut ? { eval: fixture.data.heldOut } : {}) },
    policy: s.endpoints
      ? { kind: 'endpoints', endpoints: [...s.endpoints], model: 'differad-cpu', family: 'differad', frame: 'norm1000' }
      : { kind: 'cpu', servers: 1 },
    trainer: { kind: 'url', url: s.trainerUrl },
    grpo: { groupSize: 4, pairsPerStep: 3 },
  });
}

function train(
  config: TrainConfig,
  log: (line: string) => void = () => undefined,
  signal = new AbortController().signal,
): Promise<TrainRunResult> {
  return trainRun({ config, env: { DIFFERAD_REDIS_URL: fixture.redis.url }, log, signal });
}

function resume(runId: string, log: (line: string) => void = () => undefined): Promise<TrainRunResult> {
  return trainRun({
    resumeRunId: runId,
    runsDir: runsDir(),
    env: { DIFFERAD_REDIS_URL: fixture.redis.url },
    log,
    signal: new AbortController().signal,
  });
}

/** The run's metrics.jsonl without timings. */
async function rowsOf(runId: string): Promise<Record<string, number | null>[]> {
  return (await readMetricsFile(join(runsDir(), runId, 'metrics.jsonl'))).map(withoutTimings);
}

/** A reference run of `steps` on a fresh trainer (and fresh local policy server unless `endpoints`): its rows. */
async function reference(runId: string, s: Omit<RunSetup, 'trainerUrl'>): Promise<Record<string, number | null>[]> {
  const { url } = await startTrainer(runId);
  expect((await train(toConfig(runId, { ...s, trainerUrl: url }))).state).toBe('completed');
  return rowsOf(runId);
}

/** Finishes a run that may have stopped with a resumable error: resumes it once, after `ready`. */
async function finish(runId: string, first: Promise<TrainRunResult>, ready: () => Promise<unknown>, lines: string[]): Promise<void> {
  const outcome = await first.then(
    (r) => r.state,
    (error: Error) => error,
  );
  await ready();
  if (outcome instanceof Error) {
    expect(outcome.message).toContain(`differad train --resume ${runId}`);
    expect((await resume(runId, (l) => lines.push(l))).state).toBe('completed');
  } else {
    expect(outcome).toBe('completed');
  }
}

describe('a trainer restarted mid-run (CPU trainer)', () => {
  it('is put back on its checkpoint and the run reproduces the reference row for row', async () => {
    const expected = await reference('cpu-ref', { steps: 6 });
    const first = await startTrainer('cpu-chaos');
    let restarted: Promise<void> | null = null;
    const lines: string[] = [];
    const log = (line: string) => {
      lines.push(line);
      if (restarted !== null || !stepRow(2).test(line)) return;
      // Killed after step 2 (unreachable at once), then started again on its port and state folder: fresh, in memory.
      const closing = first.trainer.close();
      restarted = closing.then(async () => void (await startTrainer('cpu-chaos', first.port)));
    };
    await finish('cpu-chaos', train(toConfig('cpu-chaos', { steps: 6, trainerUrl: first.url }), log), () => restarted!, lines);
    const rows = await rowsOf('cpu-chaos');
    expect(rows.map((r) => r.weight_version)).toEqual(rows.map((r) => r.step! + 1));
    expect(rows).toEqual(expected);
    expect(lines.join('\n')).toContain('trainer: loaded checkpoint of step 2 (weight version 3)');
  }, 40_000);
});

describe('a step that failed because its inference server was down', () => {
  it('runs again on --resume with new job ids once the server is back, and the run reproduces the reference', async () => {
    const server = await startPolicyServer();
    const expected = await reference('down-ref', { steps: 4, endpoints: [server.url] });
    const down = await startPolicyServer();
    const port = Number(new URL(down.url).port);
    const { url } = await startTrainer('down-chaos');
    let stopped: Promise<void> | null = null;
    const log = (line: string) => {
      if (stopped === null && stepRow(1).test(line)) stopped = down.close();
    };
    const failure = await train(toConfig('down-chaos', { steps: 4, trainerUrl: url, endpoints: [down.url] }), log).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure?.message).toMatch(/^step 2 failed in (rollout|resample) job /);
    await stopped;
    // Back on its port with its starting weights: resuming gives it the run's weights before step 2 runs again.
    await startPolicyServer(port);
    const lines: string[] = [];
    expect((await resume('down-chaos', (l) => lines.push(l))).state).toBe('completed');
    expect(lines.join('\n')).toMatch(/the next step failed before \(.+\); it runs again with new job ids/);
    expect(await rowsOf('down-chaos')).toEqual(expected);
  }, 60_000);
});

describe('a new run on long-lived servers that served another run', () => {
  it('samples from its own starting weights: held-out before training and every row equal a run on fresh servers', async () => {
    const shared = await startPolicyServer();
    const a = await startTrainer('first');
    expect((await train(toConfig('first', { steps: 3, trainerUrl: a.url, endpoints: [shared.url] }))).state).toBe('completed');
    // The shared server now serves the first run's trained weights.
    expect(shared.currentPolicy.version).toBe(3);

    const b = await startTrainer('second');
    const lines: string[] = [];
    expect(
      (await train(toConfig('second', { steps: 2, trainerUrl: b.url, endpoints: [shared.url], heldOut: true }), (l) => lines.push(l)))
        .state,
    ).toBe('completed');

    const fresh = await startPolicyServer();
    const c = await startTrainer('fresh');
    const freshLines: string[] = [];
    expect(
      (await train(toConfig('fresh', { steps: 2, trainerUrl: c.url, endpoints: [fresh.url], heldOut: true }), (l) => freshLines.push(l)))
        .state,
    ).toBe('completed');

    const heldOut = (ls: string[]) => ls.find((l) => l.startsWith('held-out before training:'));
    expect(heldOut(lines)).toMatch(/^held-out before training: Acc@[\d.]+ [\d.]+ · F1@[\d.]+ [\d.]+ · mIoU [\d.]+/);
    expect(heldOut(lines)).toBe(heldOut(freshLines));
    expect(await rowsOf('second')).toEqual(await rowsOf('fresh'));
    expect(lines).toContain('servers: pushed the starting weights (weight version 0)');
  }, 60_000);
});

describe('--resume with checkpoints every 3 steps', () => {
  it('restarts from the last SAVED checkpoint and replays the steps after it: the rows equal the reference, none twice', async () => {
    const expected = await reference('every3-ref', { steps: 6, checkpointEvery: 3 });
    const first = await startTrainer('every3');
    const stop = new AbortController();
    const log = (line: string) => {
      if (stepRow(4).test(line)) stop.abort();
    };
    expect((await train(toConfig('every3', { steps: 6, trainerUrl: first.url, checkpointEvery: 3 }), log, stop.signal)).state).toBe(
      'paused',
    );
    expect((await rowsOf('every3')).map((r) => r.step)).toEqual([0, 1, 2, 3, 4]);
    // The whole thing stopped: the trainer comes back fresh, its checkpoint of step 2 the last it saved.
    await first.trainer.close();
    await startTrainer('every3', first.port);
    const lines: string[] = [];
    expect((await resume('every3', (l) => lines.push(l))).state).toBe('completed');
    expect(await rowsOf('every3')).toEqual(expected);
    expect(lines).toContain('trainer: loaded checkpoint of step 2 (weight version 3)');
    expect(lines).toContain('replaying steps 3..4 from the checkpoint (round 1)');
  }, 60_000);
});
