import {
  createRng,
  type Frame,
  type ManifestRecord,
  type ModelFamily,
  type ResizeOptions,
  toFrameResize,
  toPairPrompt,
} from '@differad/core';
import { resolveManifestPath } from '@differad/datasets';
import { createFramePreparer } from '@differad/images';
import type { CompletionRequest, SamplingParams } from '@differad/inference';

/** Builds the request of one manifest record. */
export type PairRequestBuilder = (record: ManifestRecord) => Promise<CompletionRequest>;

/** Settings of {@link createPairRequestBuilder}. */
export interface PairRequestSettings {
  readonly manifestPath: string;
  readonly family: ModelFamily;
  readonly frame: Frame;
  /** The Qwen-style resize of the `resized-pixels` frame (also applied for `norm1000`). */
  readonly resize: ResizeOptions;
  readonly seed: number;
  /** Paraphrases to draw the instruction from (default the project's pool). */
  readonly pool?: readonly string[];
  readonly maxTokens: number;
}

/** Evaluation is greedy: one completion at temperature 0, every sampling parameter explicit (docs/method.md §7). */
export function toEvalSampling(maxTokens: number): SamplingParams {
  return { temperature: 0, topP: 1, topK: -1, maxTokens };
}

/** The sampling seed of pair `id`: fixed by (seed, id), so a resumed run asks exactly what the first would have. */
export function toEvalSeed(seed: number, id: string): number {
  return createRng(`eval/${seed}/${id}`).int(0, 0x7fff_ffff);
}

/**
 * Creates the request builder of an evaluation: both images prepared in the
 * model frame (for `resized-pixels` and `norm1000` the Qwen-resized image,
 * for `pixels` the original size) as data URLs, the family's system
 * instruction for that frame, and one instruction drawn per pair.
 */
export function createPairRequestBuilder(settings: PairRequestSettings): PairRequestBuilder {
  // Pairs are asked once each; the cache only saves re-encoding references shared by several targets.
  const preparer = createFramePreparer({ resize: toFrameResize(settings.frame, settings.resize), maxCacheBytes: 64 * 1024 * 1024 });
  const sampling = toEvalSampling(settings.maxTokens);
  return async (record) => {
    const pair = await preparer.preparePair(
      resolveManifestPath(settings.manifestPath, record.reference),
      resolveManifestPath(settings.manifestPath, record.target),
    );
    const { system, prompt } = toPairPrompt({
      family: settings.family,
      frame: settings.frame,
      size: { width: pair.target.width, height: pair.target.height },
      id: record.id,
      seed: settings.seed,
      pool: settings.pool,
    });
    return {
      requestId: `eval-${record.id}`,
      referenceImage: pair.reference.dataUrl,
      targetImage: pair.target.dataUrl,
      system,
      prompt,
      n: 1,
      seed: toEvalSeed(settings.seed, record.id),
      sampling,
      logprobs: false,
      returnTokenIds: false,
    };
  };
}
