import { createRng, type ManifestRecord, type ScoreSettings, toFrameResize, toPairPrompt } from '@differad/core';
import { resolveManifestPath } from '@differad/datasets';
import { createFramePreparer } from '@differad/images';
import type { Fleet } from '@differad/inference';
import { evaluatePair, type PairEvaluation } from '@differad/orchestrator';

/** Asks and scores one manifest record; `signal` abandons the request. */
export type PairAsker = (record: ManifestRecord, signal: AbortSignal) => Promise<PairEvaluation>;

/** Settings of {@link createPairAsker}. */
export interface PairAskerSettings {
  readonly manifestPath: string;
  readonly fleet: Fleet;
  /** Family and frame of the prompt and the answer, the Qwen-style resize (also applied for `norm1000`), and τ. */
  readonly score: ScoreSettings;
  readonly seed: number;
  /** Paraphrases to draw the instruction from (default the project's pool). */
  readonly pool?: readonly string[] | undefined;
  readonly maxTokens: number;
}

/** The sampling seed of pair `id`: fixed by (seed, id), so a resumed run asks exactly what the first would have. */
export function toEvalSeed(seed: number, id: string): number {
  return createRng(`eval/${seed}/${id}`).int(0, 0x7fff_ffff);
}

/**
 * Creates eval's asker on evaluatePair, the one evaluation path training's
 * held-out evaluation shares: both images prepared in the model frame (for
 * `resized-pixels` and `norm1000` the Qwen-resized image, for `pixels` the
 * original size), the family's system instruction for that frame, one
 * instruction drawn per pair by (seed, id), one greedy answer, scored. What is
 * eval's own: the request id `eval-<id>` and a sampling seed fixed by (seed, id).
 */
export function createPairAsker(settings: PairAskerSettings): PairAsker {
  const { score } = settings;
  // Pairs are asked once each; the cache only saves re-encoding references shared by several targets.
  const preparer = createFramePreparer({ resize: toFrameResize(score.frame, score.resize), maxCacheBytes: 64 * 1024 * 1024 });
  return (record, signal) =>
    evaluatePair({
      record,
      resolvePath: (entry) => resolveManifestPath(settings.manifestPath, entry),
      preparer,
      prompt: (r, target) =>
        toPairPrompt({ family: score.family, frame: score.frame, size: target, id: r.id, seed: settings.seed, pool: settings.pool }),
      fleet: settings.fleet,
      requestId: `eval-${record.id}`,
      seed: toEvalSeed(settings.seed, record.id),
      maxTokens: settings.maxTokens,
      score,
      signal,
    });
}
