import type { MetricReport, MetricSet } from '../metrics/metrics.js';

/** The step the held-out evaluation before training is recorded under (`evaluate(-1)`). */
export const BEFORE_TRAINING_STEP = -1;

/** Steps averaged at each end of the reward curve by default. */
export const REWARD_WINDOW_STEPS = 10;

/** One metrics row of a run (`metrics.jsonl`): the step, `reward_mean`, `eval_*` when the held-out set was evaluated, … */
export type StepMetricsRow = Readonly<Record<string, number | null | undefined>>;

/** A held-out evaluation of a run (docs/method.md §8 at the run's τ), from a row's `eval_*` fields. */
export interface HeldOutMetrics {
  /** The step after which it was measured; null before training. */
  readonly step: number | null;
  readonly n: number;
  readonly acc: number | null;
  readonly f1: number | null;
  readonly miou: number | null;
  readonly miou_ano: number | null;
  readonly miou_nor: number | null;
  /** Per class, when the evaluation's report was kept. */
  readonly classes?: Readonly<Record<string, MetricSet>>;
  /** The class mean over defect classes (docs/method.md §8.4), when the report was kept. */
  readonly defect_class_mean?: MetricSet;
}

/** The mean training reward over a few steps at one end of the run. */
export interface RewardWindow {
  /** How many steps were averaged (fewer than asked in a short run; the two ends then overlap). */
  readonly steps: number;
  readonly mean: number | null;
}

/** `summary.json` of a run folder: what a user reads first when `differad train` ends. */
export interface RunSummary {
  readonly run: string;
  readonly state: string;
  readonly steps_completed: number;
  /** τ of Acc and F1 (`reward.tau`). */
  readonly tau: number;
  readonly held_out: {
    /** Before the first step. */
    readonly before: HeldOutMetrics | null;
    /** The last evaluation (the last step's, when the run completed). */
    readonly after: HeldOutMetrics | null;
    /** The evaluated step with the highest Acc (ties: higher F1, then the earlier step); before training is not a candidate. */
    readonly best: HeldOutMetrics | null;
  };
  readonly reward: {
    readonly first: RewardWindow;
    readonly last: RewardWindow;
  };
  /** The policy the run ended with, when it is a file differad can serve (the CPU policy); null otherwise. */
  readonly final_policy: { readonly path: string; readonly weight_version: number } | null;
}

/** What a run summary is computed from. */
export interface RunSummaryInput {
  readonly runId: string;
  readonly state: string;
  readonly tau: number;
  /** The run's metrics rows, in any order; a step given twice counts once (its last row). */
  readonly rows: readonly StepMetricsRow[];
  /** The evaluation before training (the `eval_*` row of `evaluate(-1)`), or null when there was none. */
  readonly before: StepMetricsRow | null;
  /** Kept evaluation reports by step ({@link BEFORE_TRAINING_STEP} before training), for per-class figures. */
  readonly reports?: ReadonlyMap<number, MetricReport>;
  readonly finalPolicy: RunSummary['final_policy'];
  /** Steps averaged at each end of the reward curve (default {@link REWARD_WINDOW_STEPS}). */
  readonly window?: number;
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The held-out metrics of a row, or null when the row has no evaluation. */
function toHeldOut(row: StepMetricsRow, step: number | null, report: MetricReport | undefined): HeldOutMetrics | null {
  const n = num(row.eval_n);
  if (n === null) return null;
  const metrics: HeldOutMetrics = {
    step,
    n,
    acc: num(row.eval_acc),
    f1: num(row.eval_f1),
    miou: num(row.eval_miou),
    miou_ano: num(row.eval_miou_ano),
    miou_nor: num(row.eval_miou_nor),
  };
  return report === undefined ? metrics : { ...metrics, classes: report.classes, defect_class_mean: report.defect_class_mean };
}

function meanReward(rows: readonly StepMetricsRow[]): RewardWindow {
  const values = rows.map((r) => num(r.reward_mean)).filter((v): v is number => v !== null);
  return { steps: rows.length, mean: values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null };
}

/** Whether `a` is a better held-out result than `b`: higher Acc, then higher F1; an equal one is not (the earlier step stays). */
function isBetter(a: HeldOutMetrics, b: HeldOutMetrics): boolean {
  const acc = (a.acc ?? -1) - (b.acc ?? -1);
  return acc !== 0 ? acc > 0 : (a.f1 ?? -1) > (b.f1 ?? -1);
}

/**
 * The end-of-run summary (docs/architecture.md §4.6): held-out metrics before
 * and after training and at the best step, and the mean training reward of the
 * first and the last `window` steps, so a user sees at once whether the run
 * learned.
 */
export function computeRunSummary(input: RunSummaryInput): RunSummary {
  const window = input.window ?? REWARD_WINDOW_STEPS;
  const byStep = new Map<number, StepMetricsRow>();
  for (const row of input.rows) {
    const step = num(row.step);
    if (step !== null) byStep.set(step, row);
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const rows = steps.map((s) => byStep.get(s)!);
  const evaluated = steps.map((s) => toHeldOut(byStep.get(s)!, s, input.reports?.get(s))).filter((m): m is HeldOutMetrics => m !== null);
  const best = evaluated.reduce<HeldOutMetrics | null>((top, m) => (top === null || isBetter(m, top) ? m : top), null);
  return {
    run: input.runId,
    state: input.state,
    steps_completed: rows.length,
    tau: input.tau,
    held_out: {
      before: input.before === null ? null : toHeldOut(input.before, null, input.reports?.get(BEFORE_TRAINING_STEP)),
      after: evaluated.at(-1) ?? null,
      best,
    },
    reward: { first: meanReward(rows.slice(0, window)), last: meanReward(rows.slice(-window)) },
    final_policy: input.finalPolicy,
  };
}
