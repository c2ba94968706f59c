import {
  computeMetricReport,
  computeSampleScore,
  type ManifestRecord,
  mapBounded,
  type MetricReport,
  type SampleScore,
  type ScoreSettings,
} from '@differad/core';
import type { FramePreparer } from '@differad/images';
import type { Fleet } from '@differad/inference';
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
 * Evaluates the current policy on held-out pairs through the same path as
 * `differad eval`: the run's prompt, one greedy answer (temperature 0) per
 * pair, scored with the docs/method.md §8 metrics at the run's τ. Returns the
 * metric row the step table shows.
 */
export function createHeldOutEvaluator(
  input: HeldOutEvalInput,
): (step: number, servers?: readonly string[]) => Promise<Record<string, number | null>> {
  return async (step, servers) => {
    // One greedy answer per pair, a bounded number of requests in flight; the first failure stops new ones.
    const scores = await mapBounded(input.records, input.concurrency ?? 8, async (record, i): Promise<SampleScore> => {
      const pair = await input.preparer.preparePair(input.resolvePath(record.reference), input.resolvePath(record.target));
      const prompt = input.prompt(record.id, pair.target, input.seed);
      const result = await input.fleet.complete({
        requestId: `eval-s${step}-${i}`,
        referenceImage: pair.reference.dataUrl,
        targetImage: pair.target.dataUrl,
        system: prompt.system,
        prompt: prompt.prompt,
        n: 1,
        sampling: { temperature: 0, topP: 1, topK: -1, maxTokens: input.maxTokens },
        seed: 0,
        logprobs: false,
        returnTokenIds: false,
        ...(servers === undefined ? {} : { servers }),
      });
      return computeSampleScore(record, { id: record.id, completion: result.completions[0]?.text ?? '' }, input.score);
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
