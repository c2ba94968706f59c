import {
  computeMetricReport,
  type ManifestRecord,
  mapBounded,
  type MetricReport,
  type SampleScore,
  type ScoreSettings,
} from '@differad/core';
import type { FramePreparer } from '@differad/images';
import type { Fleet } from '@differad/inference';
import { evaluatePair } from './evaluate-pair.js';
import type { RunContext } from './run-context.js';

export interface HeldOutEvalInput {
  readonly records: readonly ManifestRecord[];
  readonly resolvePath: (entry: string) => string;
  readonly preparer: FramePreparer;
  readonly fleet: Fleet;
  /** The run's prompt builder, as the rollouts use it. */
  readonly prompt: RunContext['prompt'];
  /** Seeds the instruction draw: the same instruction per pair at every evaluation of a run. */
  readonly seed: number;
  /** Family, frame and resize the answers are read in, and τ (`reward.tau`) of Acc and F1. */
  readonly score: ScoreSettings;
  readonly maxTokens: number;
  /** Requests in flight at once (an integer ≥ 1; default 8). */
  readonly concurrency?: number;
  /** Sees each evaluation's whole report (per class, per subset, the class means), e.g. to keep it in the run folder. */
  readonly onReport?: (step: number, report: MetricReport) => Promise<void>;
}

/**
 * Evaluates the current policy on held-out pairs through evaluatePair, the
 * one evaluation path `differad eval` uses too: the run's prompt, one greedy
 * answer (temperature 0) per pair, scored with the docs/method.md §8 metrics
 * at the run's τ. What is its own: request ids keyed by step and position
 * (`eval-s<step>-<i>`), sampling seed 0, the first failure failing the whole
 * evaluation, and the report. Returns the metric row the step table shows.
 */
export function createHeldOutEvaluator(
  input: HeldOutEvalInput,
): (step: number, servers?: readonly string[]) => Promise<Record<string, number | null>> {
  return async (step, servers) => {
    // One greedy answer per pair, a bounded number of requests in flight; the first failure stops new ones.
    const scores = await mapBounded(input.records, input.concurrency ?? 8, async (record, i): Promise<SampleScore> => {
      const { score } = await evaluatePair({
        record,
        resolvePath: input.resolvePath,
        preparer: input.preparer,
        prompt: (r, target) => input.prompt(r.id, target, input.seed),
        fleet: input.fleet,
        requestId: `eval-s${step}-${i}`,
        seed: 0,
        maxTokens: input.maxTokens,
        score: input.score,
        servers,
      });
      return score;
    });
    const report = computeMetricReport(scores, input.score.reward.tau);
    await input.onReport?.(step, report);
    const { overall } = report;
    return {
      eval_n: overall.n,
      eval_acc: overall.acc,
      eval_f1: overall.f1,
      eval_miou: overall.mIoU,
      eval_miou_ano: overall.mIoU_ano,
      eval_miou_nor: overall.mIoU_nor,
    };
  };
}
