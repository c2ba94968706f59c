import {
  computeSampleScore,
  type ImageSize,
  type ManifestRecord,
  type PairPrompt,
  type SampleScore,
  type ScoreSettings,
} from '@differad/core';
import type { FramePreparer } from '@differad/images';
import type { CompletionResult, Fleet, SamplingParams } from '@differad/inference';

/** Evaluation is greedy: one completion at temperature 0, every sampling parameter explicit (docs/method.md §7). */
export function toEvalSampling(maxTokens: number): SamplingParams {
  return { temperature: 0, topP: 1, topK: -1, maxTokens };
}

/** What {@link evaluatePair} needs to ask one pair. */
export interface EvaluatePairInput {
  readonly record: ManifestRecord;
  /** A manifest entry (`reference`, `target`) → the file to read. */
  readonly resolvePath: (entry: string) => string;
  /** Prepares both images in the model frame (the Qwen-resized image, or the original size for `pixels`). */
  readonly preparer: Pick<FramePreparer, 'preparePair'>;
  /** The caller's prompt of the pair, for its target as sent: the instruction drawn for it (docs/method.md §7). */
  readonly prompt: (record: ManifestRecord, target: ImageSize) => PairPrompt;
  readonly fleet: Pick<Fleet, 'complete'>;
  /** The request id the fleet sends (`X-Request-Id`): eval names it by pair, training by step and position. */
  readonly requestId: string;
  /** The sampling seed sent with the request. */
  readonly seed: number;
  readonly maxTokens: number;
  /** Family, frame and resize the answer is read in, and τ. */
  readonly score: ScoreSettings;
  /** Only these servers may answer (default: every one of the fleet). */
  readonly servers?: readonly string[] | undefined;
  /** Abandons the request (Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
}

/** One pair asked and scored. */
export interface PairEvaluation {
  /** The answer's text (`''` when the server sent none). */
  readonly completion: string;
  /** What the fleet returned: the server that answered, the latency, attempts. */
  readonly result: CompletionResult;
  readonly score: SampleScore;
}

/**
 * The one evaluation path of differad: `differad eval` (and so the API's eval
 * jobs, which run it) and the held-out evaluation during training both ask
 * each pair through this function. It prepares the pair in the model frame,
 * builds the caller's prompt for the target as sent, asks the fleet once,
 * greedily (temperature 0, n = 1, no log-probs or token ids), and scores the
 * answer with core's computeSampleScore (docs/method.md §8). Failures
 * (preparing, requesting) are thrown as they come; the callers decide what a
 * failure means (eval skips the pair, training fails the evaluation).
 */
export async function evaluatePair(input: EvaluatePairInput): Promise<PairEvaluation> {
  const { record } = input;
  const pair = await input.preparer.preparePair(input.resolvePath(record.reference), input.resolvePath(record.target));
  const { system, prompt } = input.prompt(record, { width: pair.target.width, height: pair.target.height });
  const result = await input.fleet.complete({
    requestId: input.requestId,
    referenceImage: pair.reference.dataUrl,
    targetImage: pair.target.dataUrl,
    system,
    prompt,
    n: 1,
    seed: input.seed,
    sampling: toEvalSampling(input.maxTokens),
    logprobs: false,
    returnTokenIds: false,
    ...(input.servers === undefined ? {} : { servers: input.servers }),
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
  const completion = result.completions[0]?.text ?? '';
  return { completion, result, score: computeSampleScore(record, { id: record.id, completion }, input.score) };
}
