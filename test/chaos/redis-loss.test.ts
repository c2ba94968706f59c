import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findClosedPort, readMetricsFile, runDifferad, startDifferad, useTrainFixture, writeTrainConfig } from '../e2e/train-harness.js';
import { exitWithin, redisPid, startVolatileRedis, stepRow, withoutTimings } from './chaos-harness.js';

const fixture = useTrainFixture('differad-chaos-redis-');

/** A CPU run of `steps` steps (one policy server, so every answer depends on the seed alone). */
function cpuRun(id: string, runsDir: string, steps: number, run: Readonly<Record<string, unknown>> = {}): Promise<string> {
  return writeTrainConfig(fixture.dir, `${id}.yaml`, {
    run: { id, steps, seed: 5, runsDir, ...run },
    data: { train: fixture.data.train },
    policy: { kind: 'cpu', servers: 1 },
    trainer: { kind: 'cpu' },
    grpo: { groupSize: 4, pairsPerStep: 3 },
  });
}

describe('differad train when Redis goes away', () => {
  it('embedded redis-server SIGKILLed mid-run: exits 2 within 5 s naming the --resume command, which then finishes with the rows of an uninterrupted run', async () => {
    const reference = await runDifferad(['train', '--config', await cpuRun('ref', 'runs-ref', 4)], { cwd: fixture.dir });
    expect(reference.code, reference.stderr).toBe(0);

    const train = startDifferad(['train', '--config', await cpuRun('crash', 'runs-crash', 4)], { cwd: fixture.dir });
    const url = (await train.waitFor(/Redis: (unix:\/\/\S+) \(embedded\)/))[1]!;
    await train.waitFor(stepRow(0));
    const pid = await redisPid(url);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const exit = await exitWithin(train, 5_000, killedAt);
    console.info(`embedded redis-server killed: differad train exited ${exit.code} after ${exit.ms} ms`);
    expect(exit.code, train.stderr()).toBe(2);
    expect(train.stderr()).toContain('TRAIN_REDIS_LOST');
    expect(train.stderr()).toMatch(/embedded redis-server \(pid \d+\) exited \(SIGKILL\)/);
    expect(train.stderr()).toContain(`differad train --resume crash --runs-dir ${join(fixture.dir, 'runs-crash')}`);

    const resumed = await runDifferad(['train', '--resume', 'crash', '--runs-dir', 'runs-crash'], { cwd: fixture.dir });
    expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    const rows = await readMetricsFile(join(fixture.dir, 'runs-crash', 'crash', 'metrics.jsonl'));
    const expected = await readMetricsFile(join(fixture.dir, 'runs-ref', 'ref', 'metrics.jsonl'));
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2, 3]);
    expect(rows.map(withoutTimings)).toEqual(expected.map(withoutTimings));
  }, 60_000);

  it('external Redis restarted empty mid-run: fails within 8 s with TRAIN_REDIS_DATA_LOST instead of waiting for jobs that are gone', async () => {
    const port = await findClosedPort();
    const first = await startVolatileRedis(port);
    const train = startDifferad(['train', '--config', await cpuRun('emptied', 'runs-emptied', 200)], {
      cwd: fixture.dir,
      env: { DIFFERAD_REDIS_URL: first.url },
    });
    await train.waitFor(stepRow(0));
    const killedAt = Date.now();
    process.kill(first.pid, 'SIGKILL');
    await startVolatileRedis(port);
    const exit = await exitWithin(train, 8_000, killedAt);
    console.info(`external Redis restarted empty: differad train exited ${exit.code} after ${exit.ms} ms`);
    expect(exit.code, train.stderr()).toBe(2);
    expect(train.stderr()).toContain('TRAIN_REDIS_DATA_LOST');
    expect(train.stderr()).toContain(`no longer holds run emptied`);
    expect(train.stderr()).toContain('appendonly yes');
  }, 60_000);

  it('external Redis gone for longer than run.redisGraceMs (default 10 s): exits 2 with TRAIN_REDIS_LOST within 15 s, naming the --resume command', async () => {
    const port = await findClosedPort();
    const redis = await startVolatileRedis(port);
    const train = startDifferad(['train', '--config', await cpuRun('gone', 'runs-gone', 200)], {
      cwd: fixture.dir,
      env: { DIFFERAD_REDIS_URL: redis.url },
    });
    await train.waitFor(stepRow(0));
    const killedAt = Date.now();
    process.kill(redis.pid, 'SIGKILL');
    const exit = await exitWithin(train, 15_000, killedAt);
    console.info(`external Redis gone: differad train exited ${exit.code} after ${exit.ms} ms`);
    expect(exit.code, train.stderr()).toBe(2);
    // It waited the grace out first: a Redis that comes back within it does not end the run.
    expect(exit.ms, train.stderr()).toBeGreaterThanOrEqual(10_000);
    expect(train.stderr()).toContain('TRAIN_REDIS_LOST');
    expect(train.stderr()).toContain('has not answered for 10000 ms (run.redisGraceMs)');
    expect(train.stderr()).toContain('differad train --resume gone');
  }, 60_000);
});
