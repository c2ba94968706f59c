import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDifferad, useTrainFixture, writeTrainConfig } from './train-harness.js';

const fixture = useTrainFixture('differad-e2e-eval-run-');

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

describe('the end of a run and `differad eval --run`', () => {
  it('train writes summary.json, and eval --run serves the run’s final policy in process', async () => {
    const config = await writeTrainConfig(fixture.dir, 'tiny.yaml', {
      run: { id: 'tiny', steps: 3, seed: 7, runsDir: 'runs' },
      data: { train: fixture.data.train, eval: fixture.data.heldOut, evalEvery: 2, evalLimit: 6 },
      policy: { kind: 'cpu', servers: 1 },
      trainer: { kind: 'cpu' },
      optim: { lr: 0.05, microBatchGroups: 2 },
      grpo: { groupSize: 4, pairsPerStep: 4, maxResamples: 1, onExhausted: 'keep' },
    });
    const train = await runDifferad(['train', '--config', config], { cwd: fixture.dir });
    expect(train.code, train.stderr).toBe(0);
    const runDir = join(fixture.dir, 'runs', 'tiny');
    const finalPolicy = join(runDir, 'trainer', 'weights', 'policy-v3.json');

    // The summary: before, after and best held-out figures, both reward ends, the final policy; printed too.
    const summary = await readJson(join(runDir, 'summary.json'));
    expect(summary).toMatchObject({
      run: 'tiny',
      state: 'completed',
      steps_completed: 3,
      tau: 0.3,
      final_policy: { path: finalPolicy, weight_version: 3 },
    });
    expect(summary.held_out.before).toMatchObject({
      step: null,
      n: 6,
      acc: expect.any(Number),
      f1: expect.any(Number),
      miou: expect.any(Number),
    });
    expect(summary.held_out.after).toMatchObject({ step: 2, n: 6 });
    expect([1, 2]).toContain(summary.held_out.best.step);
    expect(Object.keys(summary.held_out.after.classes).length).toBeGreaterThan(0);
    expect(summary.reward.first).toMatchObject({ steps: 3, mean: expect.any(Number) });
    expect(train.stdout).toMatch(/before training\s+6\s+\d+\.\d\d/);
    expect(train.stdout).toMatch(/after step 2\s+6\s+\d+\.\d\d/);
    expect(train.stdout).toContain(`final policy: ${finalPolicy} (weight version 3)`);
    expect(train.stdout).toMatch(/training reward: mean \d+\.\d{3} over the first 3 step\(s\)/);

    // eval --run by id: the run's held-out manifest by default, the final policy's sha256 recorded.
    const out = join(fixture.dir, 'eval-tiny');
    const evaluated = await runDifferad(['eval', '--run', 'tiny', '--out', out], { cwd: fixture.dir });
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toContain('policy v3 of run tiny after step 2');
    const record = await readJson(join(out, 'eval-run.json'));
    expect(record.settings.policy_sha256).toBe(await sha256(finalPolicy));
    expect(record.context).toMatchObject({
      run: 'tiny',
      run_step: 2,
      policy_weight_version: 3,
      policy_file: finalPolicy,
      policy_version: 3,
    });
    expect(record.settings.manifest).toBe(fixture.data.heldOut);
    // Scored as the held-out evaluation after the last step scored the same policy on the same pairs.
    const metrics = await readJson(join(out, 'metrics.json'));
    expect(metrics.overall.n).toBe(6);
    expect([metrics.overall.acc, metrics.overall.f1, metrics.overall.mIoU]).toEqual([
      summary.held_out.after.acc,
      summary.held_out.after.f1,
      summary.held_out.after.miou,
    ]);

    // The same folder and another policy: refused before any request, naming the policy's sha256.
    const other = await runDifferad(
      ['eval', '--policy-file', join(runDir, 'trainer', 'weights', 'policy-v1.json'), '--manifest', fixture.data.heldOut, '--out', out],
      { cwd: fixture.dir },
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('EVAL_OUTPUT_MISMATCH');
    expect(other.stderr).toMatch(/policy_sha256: "[0-9a-f]{64}" → "[0-9a-f]{64}"/);

    // By folder path, with another manifest: the same policy; the rerun resumes.
    const byPath = await runDifferad(
      ['eval', '--run', 'runs/tiny', '--manifest', fixture.data.train, '--out', 'eval-train', '--limit', '4'],
      { cwd: fixture.dir },
    );
    expect(byPath.code, byPath.stderr).toBe(0);
    expect((await readJson(join(fixture.dir, 'eval-train', 'eval-run.json'))).settings.policy_sha256).toBe(await sha256(finalPolicy));
  }, 60_000);

  it('an unknown run, a run without a policy and a GPU run fail with a clear error (exit 2); wrong flag combinations exit 1', async () => {
    const unknown = await runDifferad(['eval', '--run', 'nope', '--out', 'x'], { cwd: fixture.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('EVAL_RUN_UNKNOWN');
    expect(unknown.stderr).toContain('no run "nope"');
    expect(unknown.stderr).toContain(join(fixture.dir, 'runs', 'nope'));

    const untrained = join(fixture.dir, 'runs', 'untrained');
    await mkdir(untrained, { recursive: true });
    await writeFile(
      join(untrained, 'config.json'),
      JSON.stringify({ run: { id: 'untrained' }, data: { train: fixture.data.train, eval: fixture.data.heldOut } }),
    );
    const none = await runDifferad(['eval', '--run', 'untrained', '--out', 'x'], { cwd: fixture.dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('EVAL_RUN_UNTRAINED');
    expect(none.stderr).toContain('no step has completed');

    const gpu = join(fixture.dir, 'runs', 'gpu');
    await mkdir(gpu, { recursive: true });
    const policy = {
      kind: 'endpoints',
      endpoints: ['http://gpu1:8000'],
      model: 'Qwen/Qwen2.5-VL-7B-Instruct',
      family: 'qwen2.5-vl',
      frame: 'resized-pixels',
    };
    await writeFile(
      join(gpu, 'config.json'),
      JSON.stringify({
        run: { id: 'gpu' },
        data: { train: fixture.data.train },
        policy,
        trainer: { kind: 'url', url: 'http://gpu1:9000' },
      }),
    );
    const notCpu = await runDifferad(['eval', '--run', join(gpu), '--manifest', fixture.data.heldOut, '--out', 'x'], { cwd: fixture.dir });
    expect(notCpu.code).toBe(2);
    expect(notCpu.stderr).toContain('EVAL_RUN_NOT_CPU');
    expect(notCpu.stderr).toContain('--endpoint URL --model Qwen/Qwen2.5-VL-7B-Instruct --family qwen2.5-vl --frame resized-pixels');

    const both = await runDifferad(['eval', '--run', 'tiny', '--endpoint', 'http://127.0.0.1:1', '--model', 'm', '--out', 'x'], {
      cwd: fixture.dir,
    });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('drop --endpoint');
    const noManifest = await runDifferad(['eval', '--policy-file', 'p.json', '--out', 'x'], { cwd: fixture.dir });
    expect(noManifest.code).toBe(1);
    expect(noManifest.stderr).toContain('pass --manifest FILE');
  }, 30_000);
});
