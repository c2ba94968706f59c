import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TrainConfig, TrainConfigSchema } from '@differad/config';
import type { StepMetricsRow } from '@differad/core';

/** The files of a run folder (`<runsDir>/<run>/`) that the end of a run and `differad eval --run` read. */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  baseline: 'baseline-eval.json',
  summary: 'summary.json',
  /** Reports of the held-out evaluations (`before.json`, `step-<s>.json`). */
  heldOut: 'held-out',
  /** The CPU trainer's weight files (`policy-v<version>.json`), one per weight sync. */
  cpuWeights: join('trainer', 'weights'),
} as const;

/** The rows of a run's metrics.jsonl ([] when there is none yet); a torn last line is skipped. */
export async function loadRunRows(runDir: string): Promise<StepMetricsRow[]> {
  const text = await readFile(join(runDir, RUN_FILES.metrics), 'utf8').catch(() => '');
  const rows: StepMetricsRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as StepMetricsRow);
    } catch {
      // A line cut by a crash: the step's row is written again when the step is replayed.
    }
  }
  return rows;
}

/** The config a run was started with (its `config.json`), or null when the folder holds no run. */
export async function loadRunConfig(runDir: string): Promise<TrainConfig | null> {
  const text = await readFile(join(runDir, RUN_FILES.config), 'utf8').catch(() => null);
  return text === null ? null : TrainConfigSchema.parse(JSON.parse(text));
}

/** Where a run's final policy is, as far as the run folder tells. */
export type RunPolicy =
  /** The CPU trainer's weight file of the last completed step. */
  | { readonly kind: 'cpu'; readonly path: string; readonly weightVersion: number; readonly step: number }
  /** No step completed, or the weight file of the last one is gone. */
  | { readonly kind: 'untrained'; readonly reason: string }
  /** Trained by a trainer differad did not start (a GPU trainer, or a CPU trainer served apart): its weights are on that side. */
  | { readonly kind: 'external'; readonly trainerUrl: string };

/**
 * The final policy of a run from its folder: for a run whose CPU trainer
 * `differad train` started (`trainer: {kind: cpu}`), the weight file it wrote
 * at the last completed step's weight sync, `trainer/weights/policy-v<N>.json`
 * with N that step's weight version. metrics.jsonl is the run's record here:
 * a rewind to a checkpoint removes the lines of later steps, so a weight file
 * of a step that was replayed away is never picked.
 */
export async function locateRunPolicy(runDir: string, config: TrainConfig): Promise<RunPolicy> {
  if (config.trainer.kind !== 'cpu') return { kind: 'external', trainerUrl: config.trainer.url };
  const rows = await loadRunRows(runDir);
  const last = rows.reduce<StepMetricsRow | null>(
    (a, r) => (typeof r.step === 'number' && (a === null || r.step >= (a.step ?? -1)) ? r : a),
    null,
  );
  const version = last?.weight_version;
  if (last === null || typeof version !== 'number')
    return { kind: 'untrained', reason: `no step has completed (${join(runDir, RUN_FILES.metrics)} has no row)` };
  const path = join(runDir, RUN_FILES.cpuWeights, `policy-v${version}.json`);
  try {
    await access(path);
  } catch {
    return { kind: 'untrained', reason: `the weight file of its last step (${last.step}, weight version ${version}) is missing: ${path}` };
  }
  return { kind: 'cpu', path, weightVersion: version, step: last.step! };
}
