import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRunStore } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import { readMetricsFile, runDifferad, useTrainFixture, writeTrainConfig } from './train-harness.js';

/** The per-step fields a run reports (docs/architecture.md §4.4): rewards, resampling counts, trainer figures, version and timings. */
const STEP_FIELDS = [
  'step',
  'reward_mean',
  'reward_std',
  'format_rate',
  'loc_reward_mean',
  'iou_mean',
  'frac_degenerate',
  'resamples',
  'replacements',
  'weight_mean',
  'loss',
  'clip_fraction',
  'grad_norm',
  'weight_version',
  'rollout_ms',
  'score_ms',
  'train_ms',
  'sync_ms',
  'total_ms',
] as const;
const EVAL_FIELDS = ['eval_n', 'eval_acc', 'eval_f1', 'eval_miou'] as const;

// An external Redis, so the run store can be read after `differad train` has exited.
const fixture = useTrainFixture('differad-e2e-train-loop-', { redis: true });

describe('differad train: the full loop with the CPU policy and trainer', () => {
  it('completes every step with one metrics row each, the documented fields, a version bump per step and the run completed in Redis', async () => {
    const steps = 3;
    const config = await writeTrainConfig(fixture.dir, 'loop.yaml', {
      run: { id: 'loop', steps, seed: 7, runsDir: 'runs' },
      data: { train: fixture.data.train, eval: fixture.data.heldOut, evalEvery: 2, evalLimit: 6 },
      policy: { kind: 'cpu', servers: 2 },
      trainer: { kind: 'cpu' },
      optim: { lr: 0.01, microBatchGroups: 2 },
      grpo: { groupSize: 4, pairsPerStep: 4, maxResamples: 2, onExhausted: 'keep' },
    });
    const result = await runDifferad(['train', '--config', config], { cwd: fixture.dir, env: { DIFFERAD_REDIS_URL: fixture.redis.url } });
    expect(result.code, result.stderr).toBe(0);

    const runDir = join(fixture.dir, 'runs', 'loop');
    const rows = await readMetricsFile(join(runDir, 'metrics.jsonl'));
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(rows.map((r) => r.weight_version)).toEqual([1, 2, 3]);
    for (const row of rows) {
      for (const field of STEP_FIELDS) expect(row[field], `step ${row.step}: ${field}`).toEqual(expect.any(Number));
      expect(row.format_rate).toBeGreaterThanOrEqual(0);
      expect(row.format_rate).toBeLessThanOrEqual(1);
      expect(row.frac_degenerate).toBeGreaterThanOrEqual(0);
      expect(row.frac_degenerate).toBeLessThanOrEqual(1);
      expect(row.iou_mean).toBeGreaterThanOrEqual(0);
      expect(row.iou_mean).toBeLessThanOrEqual(1);
      // docs/method.md §5: the difficulty weight lies in [1, 2.066].
      expect(row.weight_mean).toBeGreaterThanOrEqual(1);
      expect(row.weight_mean).toBeLessThanOrEqual(2.07);
      expect(row.replacements).toBe(0);
      expect(row.resamples).toBeLessThanOrEqual(2 * 4);
    }
    // Held-out evaluation every 2 steps and after the last: steps 1 and 2, not step 0.
    for (const field of EVAL_FIELDS) {
      expect(rows[0]![field]).toBeUndefined();
      expect(rows[1]![field]).toEqual(expect.any(Number));
      expect(rows[2]![field]).toEqual(expect.any(Number));
    }
    expect(rows[1]!.eval_n).toBe(6);
    expect(rows[0]!.eval_ms).toBeNull();
    expect(JSON.parse(await readFile(join(runDir, 'baseline-eval.json'), 'utf8'))).toMatchObject({ eval_n: 6 });

    // The console: a header and one row per step, then where the metrics are.
    expect(result.stdout).toMatch(/step\s+reward\s+±std\s+fmt\s+R_loc\s+IoU\s+degen\s+resmp\s+repl/);
    for (let s = 0; s < steps; s++) expect(result.stdout).toMatch(new RegExp(`^\\s+${s}\\s+\\d+\\.\\d{3}\\s`, 'm'));
    expect(result.stdout).toContain(`run loop completed: ${steps} step(s); metrics in`);

    // Redis: the run is completed at the last step and version, with the same rows as the file.
    const store = createRunStore(fixture.client);
    expect(await store.loadRun('loop')).toMatchObject({ state: 'completed', lastCompletedStep: 2, weightVersion: 3 });
    const stored = await store.readMetrics('loop');
    expect(stored.map((m) => [m.step, m.weightVersion])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(stored.map((m) => m.values)).toEqual(rows);
    // Each step's job drops the groups of the step before: Redis holds the last step's final groups only, not every step's.
    const finals = await fixture.client.keys('differad:run:loop:step:*:slot:*:final');
    expect(finals.map((k) => k.split(':')[4]).sort()).toEqual(['2', '2', '2', '2']);

    // The trainer checkpointed every step and wrote the weights each sync pushed.
    for (let s = 0; s < steps; s++) await access(join(runDir, 'trainer', 'checkpoints', 'loop', `step-${s}.json`));
    for (let v = 1; v <= steps; v++) await access(join(runDir, 'trainer', 'weights', `policy-v${v}.json`));
  }, 30_000);
});
