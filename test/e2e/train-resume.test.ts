import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connectRedis } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import { isAlive, pollUntil, readMetricsFile, startDifferad, trackPid, useTrainFixture, writeTrainConfig } from './train-harness.js';

const fixture = useTrainFixture('differad-e2e-train-resume-');

/**
 * Waits until the step after `step` is under way in the Redis at `url` (the
 * embedded one of a `differad train` we are about to kill: its rollout job
 * exists), and returns that redis-server's PID.
 */
async function whenNextStepStarted(url: string, runId: string, step: number): Promise<number> {
  const client = await connectRedis(url, 'producer');
  try {
    const pid = /process_id:(\d+)/.exec(await client.info('server'))?.[1];
    if (pid === undefined) throw new Error(`no process_id in INFO of ${url}`);
    const key = `bull:rollout:rollout.${runId}.s${step + 1}.p0.a0`;
    await pollUntil(`job ${key}`, async () => ((await client.exists(key)) === 1 ? true : undefined));
    return Number(pid);
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `differad train` on an embedded Redis (no DIFFERAD_REDIS_URL: its AOF
 * lives under `<runsDir>/.redis`) and SIGKILLs it once step `afterStep` is
 * recorded (its row printed) and the next step is under way; with `withRedis`
 * its redis-server too, else that server is left running as a real crash leaves it.
 */
async function killMidRun(
  runsDir: string,
  runId: string,
  steps: number,
  afterStep: number,
  withRedis: boolean,
): Promise<{ redisPid: number; rows: number }> {
  const config = await writeTrainConfig(fixture.dir, `${runId}.yaml`, {
    run: { id: runId, steps, seed: 5, runsDir },
    data: { train: fixture.data.train },
    policy: { kind: 'cpu', servers: 1 },
    trainer: { kind: 'cpu' },
    grpo: { groupSize: 4, pairsPerStep: 3 },
  });
  const first = startDifferad(['train', '--config', config, '--lock-ms', '2000'], { cwd: fixture.dir });
  const url = (await first.waitFor(/Redis: (unix:\/\/\S+) \(embedded\)/))[1]!;
  await first.waitFor(new RegExp(`^\\s+${afterStep}\\s+\\d+\\.\\d{3}\\s`, 'm'));
  const redisPid = await whenNextStepStarted(url, runId, afterStep);
  trackPid(redisPid);
  // The trainer process goes with its workers, CPU policy server and CPU trainer.
  process.kill(first.pid, 'SIGKILL');
  if (withRedis) process.kill(redisPid, 'SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');
  if (withRedis) await pollUntil('the killed redis-server to be gone', () => (isAlive(redisPid) ? undefined : true));
  const rows = (await readMetricsFile(join(fixture.dir, runsDir, runId, 'metrics.jsonl'))).length;
  expect(rows).toBeGreaterThanOrEqual(afterStep + 1);
  expect(rows).toBeLessThan(steps);
  return { redisPid, rows };
}

describe('differad train --resume after a crash', () => {
  it('after everything was killed, continues from the last completed step: the trainer restores its checkpoint, every step has one row', async () => {
    const { rows: before } = await killMidRun('runs', 'resume', 5, 1, true);

    const second = startDifferad(['train', '--resume', 'resume', '--runs-dir', 'runs', '--lock-ms', '2000'], { cwd: fixture.dir });
    const done = await second.exited;
    const out = second.stdout();
    expect(done.code, `${out}\n${second.stderr()}`).toBe(0);
    // The restarted Redis read the run's progress back from its AOF: it resumes where the file says the run was.
    const from = Number(/run resume: steps (\d+)\.\.4 of 5/.exec(out)?.[1]);
    expect(from).toBeGreaterThanOrEqual(2);
    expect([before - 1, before]).toContain(from);
    expect(second.stderr()).toContain(`trainer: loaded checkpoint of step ${from - 1} (weight version ${from})`);
    expect(out).toContain('run resume completed');
    expect((await readdir(join(fixture.dir, 'runs', '.redis', 'appendonlydir'))).some((f) => f.endsWith('.aof'))).toBe(true);

    const rows = await readMetricsFile(join(fixture.dir, 'runs', 'resume', 'metrics.jsonl'));
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2, 3, 4]);
    // The weight version continues from the checkpoint: one bump per step across the restart.
    expect(rows.map((r) => r.weight_version)).toEqual([1, 2, 3, 4, 5]);
  }, 45_000);

  it('after only the trainer process was killed, stops the redis-server it left running on the AOF before starting its own', async () => {
    const { redisPid } = await killMidRun('runs-orphan', 'orphan', 3, 0, false);
    expect(isAlive(redisPid)).toBe(true);

    const second = startDifferad(['train', '--resume', 'orphan', '--runs-dir', 'runs-orphan', '--lock-ms', '2000'], { cwd: fixture.dir });
    await second.waitFor(/Redis: unix:\/\/\S+ \(embedded\)/);
    // Shut down before the new server started on the same dir: one server per AOF.
    await pollUntil('the leftover redis-server to exit', () => (isAlive(redisPid) ? undefined : true), 2_000);
    const done = await second.exited;
    const out = second.stdout();
    expect(done.code, `${out}\n${second.stderr()}`).toBe(0);
    expect(second.stderr()).toContain(`stopped the redis-server a killed run left on ${join(fixture.dir, 'runs-orphan', '.redis')}`);
    expect(out).toContain('run orphan completed');
    const rows = await readMetricsFile(join(fixture.dir, 'runs-orphan', 'orphan', 'metrics.jsonl'));
    expect(rows.map((r) => [r.step, r.weight_version])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    // A clean stop leaves no note of a server behind.
    expect(await readdir(join(fixture.dir, 'runs-orphan', '.redis'))).not.toContain('embedded-server.json');
  }, 45_000);
});
