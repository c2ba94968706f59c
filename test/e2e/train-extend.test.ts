import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { createRunStore } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import { readMetricsFile, runDifferad, useTrainFixture, writeTrainConfig } from './train-harness.js';

// An external Redis, so the run store can be read between and after the `differad train` runs.
const fixture = useTrainFixture('differad-e2e-train-extend-', { redis: true });

/** `run.steps` of the run folder's config.json, which a plain `--resume` reads back. */
async function savedSteps(runDir: string): Promise<number> {
  return TrainConfigSchema.parse(JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'))).run.steps;
}

describe('differad train --resume RUN --steps N', () => {
  it('extends a finished run to N steps, keeps N for a later plain --resume, and refuses an N that is not past the completed steps', async () => {
    const env = { DIFFERAD_REDIS_URL: fixture.redis.url };
    const store = createRunStore(fixture.client);
    const runDir = join(fixture.dir, 'runs', 'extend');
    const config = await writeTrainConfig(fixture.dir, 'extend.yaml', {
      run: { id: 'extend', steps: 2, seed: 5, runsDir: 'runs' },
      data: { train: fixture.data.train },
      policy: { kind: 'cpu', servers: 1 },
      trainer: { kind: 'cpu' },
      grpo: { groupSize: 4, pairsPerStep: 3 },
    });
    const first = await runDifferad(['train', '--config', config], { cwd: fixture.dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect((await readMetricsFile(join(runDir, 'metrics.jsonl'))).map((r) => r.step)).toEqual([0, 1]);

    const extended = await runDifferad(['train', '--resume', 'extend', '--runs-dir', 'runs', '--steps', '4'], { cwd: fixture.dir, env });
    expect(extended.code, `${extended.stdout}\n${extended.stderr}`).toBe(0);
    expect(extended.stdout).toContain('resuming extend at step 2, extended to 4 steps');
    expect(extended.stdout).toContain('run extend: steps 2..3 of 4');
    // A diagnostic: a log line on stderr, the step table and progress on stdout.
    expect(extended.stderr).toContain('trainer: loaded checkpoint of step 1 (weight version 2)');
    expect(extended.stdout).toContain('run extend completed: 2 step(s)');
    const rows = await readMetricsFile(join(runDir, 'metrics.jsonl'));
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2, 3]);
    expect(rows.map((r) => r.weight_version)).toEqual([1, 2, 3, 4]);
    // Stored in the run folder and in the run store (which the workers read), so the new total lasts.
    expect(await savedSteps(runDir)).toBe(4);
    expect((await store.loadConfig('extend', TrainConfigSchema))?.run.steps).toBe(4);

    const refused = await runDifferad(['train', '--resume', 'extend', '--runs-dir', 'runs', '--steps', '3'], { cwd: fixture.dir, env });
    expect(refused.code, `${refused.stdout}\n${refused.stderr}`).toBe(1);
    expect(refused.stderr).toContain('cannot resume run extend with --steps 3: 4 step(s) (0..3) are completed already');
    expect(refused.stdout).not.toMatch(/step\s+reward/);
    // Nothing of the run changed.
    expect(await savedSteps(runDir)).toBe(4);
    expect((await store.loadConfig('extend', TrainConfigSchema))?.run.steps).toBe(4);
    expect(await store.loadRun('extend')).toEqual(expect.objectContaining({ state: 'completed', lastCompletedStep: 3, weightVersion: 4 }));
    expect(await readMetricsFile(join(runDir, 'metrics.jsonl'))).toHaveLength(4);

    const again = await runDifferad(['train', '--resume', 'extend', '--runs-dir', 'runs'], { cwd: fixture.dir, env });
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).toContain('run extend has completed all 4 steps; to train further: differad train --resume extend --steps N');
    expect(again.stdout).toContain('run extend completed: 0 step(s)');
    expect(await readMetricsFile(join(runDir, 'metrics.jsonl'))).toHaveLength(4);
  }, 60_000);
});
