import type { MetricInstances } from '../registry/create-registry.js';

/**
 * A step's metrics row as `metrics.jsonl` and the run store keep it
 * (`StepRow` of @differad/core, `toStepRow`): `step`, `reward_mean`,
 * `frac_degenerate`, `resamples`, `replacements`, `loss`, `clip_fraction`,
 * `kl`, `grad_norm`, `weight_version`, `eval_*` when evaluated, `total_ms`.
 */
export type StepRowLike = Readonly<Record<string, number | null | undefined>>;

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The per-step gauges and the row field each one shows; a field the row does not report leaves no series. */
const PER_STEP = [
  ['runStep', 'step'],
  ['runRewardMean', 'reward_mean'],
  ['runDegenerateRatio', 'frac_degenerate'],
  ['runLoss', 'loss'],
  ['runKl', 'kl'],
  ['runClipRatio', 'clip_fraction'],
  ['runGradNorm', 'grad_norm'],
  ['weightVersion', 'weight_version'],
] as const;

/** The held-out gauges: kept from the last evaluation until the next (most rows have no `eval_*`). */
const HELD_OUT = [
  ['runHeldOutAccuracy', 'eval_acc'],
  ['runHeldOutMiou', 'eval_miou'],
] as const;

/**
 * Records step rows into the run metrics. The counters move once per step:
 * the same step recorded twice in a row (a retried step job that replays its
 * stored row) counts once; a step recorded again after others (the replay
 * after a rewind to a checkpoint, docs/architecture.md §4.4) was trained
 * again and counts again.
 */
export function createStepRecorder(metrics: MetricInstances) {
  const lastStep = new Map<string, number>();
  return {
    record(run: string, row: StepRowLike): void {
      const labels = { run };
      for (const [key, field] of PER_STEP) {
        const value = row[field];
        if (finite(value)) metrics[key].set(labels, value);
        else metrics[key].remove(labels);
      }
      for (const [key, field] of HELD_OUT) {
        const value = row[field];
        if (finite(value)) metrics[key].set(labels, value);
      }
      const step = row.step;
      if (!finite(step) || lastStep.get(run) === step) return;
      lastStep.set(run, step);
      metrics.stepsCompleted.inc(labels);
      metrics.runResamples.inc(labels, finite(row.resamples) ? row.resamples : 0);
      metrics.runReplacements.inc(labels, finite(row.replacements) ? row.replacements : 0);
      if (finite(row.total_ms)) metrics.stepDuration.observe(row.total_ms / 1000);
    },
    /** Forgets the run's last step (its series are removed by the caller). */
    forget(run: string): void {
      lastStep.delete(run);
    },
  };
}
