import { access } from 'node:fs/promises';
import { DifferadError, type ManifestRecord, type SampleScore, type ScoreSettings } from '@differad/core';
import { type ManifestIndex, readManifest } from '@differad/datasets';
import { openScores } from './score-stream.js';

/** What is left to ask of the first `selected` records of a manifest. */
export interface PendingWork {
  /** Records this run evaluates (the first `limit` of the manifest). */
  readonly selected: number;
  /** Of those, how many predictions.jsonl already answers. */
  readonly answered: number;
  /** selected − answered. */
  readonly pending: number;
  /** The records still to ask, in manifest order, streamed from the manifest as they are pulled. */
  records(): AsyncGenerator<ManifestRecord>;
}

/** What {@link findPendingWork} reads. */
export interface PendingWorkInput {
  readonly index: ManifestIndex;
  /** The run's predictions.jsonl (absent: nothing answered yet), or null when nothing is resumed. */
  readonly predictionsPath: string | null;
  readonly settings: ScoreSettings;
  readonly limit?: number | undefined;
  /** Sees the score of every answer resumed, in manifest order (the running Acc@τ counts them). */
  readonly onResumed?: (score: SampleScore) => void;
}

/**
 * Works out what a (resumed) eval still has to ask without holding records or
 * completions: predictions.jsonl is scored as `differad score` scores it
 * (streamed, the first valid line per id), which marks the answered records
 * in one byte each; the records to ask are then streamed from the manifest.
 */
export async function findPendingWork(input: PendingWorkInput): Promise<PendingWork> {
  const { index } = input;
  const selected = Math.min(index.size, input.limit ?? index.size);
  const answered = new Uint8Array(selected);
  let answeredCount = 0;
  if (
    input.predictionsPath !== null &&
    (await access(input.predictionsPath).then(
      () => true,
      () => false,
    ))
  ) {
    const opened = await openScores({
      manifestPath: index.path,
      predictionsPath: input.predictionsPath,
      settings: input.settings,
      limit: selected,
      answeredOnly: true,
      index,
    });
    if (opened.toScore > 0) {
      await opened.writeScores({
        manifestPath: index.path,
        predictionsPath: input.predictionsPath,
        onScore: (score, _record, position) => {
          answered[position] = 1;
          answeredCount++;
          input.onResumed?.(score);
        },
      });
    }
  }
  return {
    selected,
    answered: answeredCount,
    pending: selected - answeredCount,
    async *records() {
      let position = 0;
      for await (const entry of readManifest(index.path)) {
        if (position >= selected) return;
        if (entry.record === undefined || index.positions.get(entry.record.id) !== position) {
          throw new DifferadError(
            'MANIFEST_CHANGED',
            `manifest ${index.path} changed during the run (line ${entry.line} differs from the first read); run again`,
          );
        }
        if (answered[position] === 0) yield entry.record;
        position++;
      }
    },
  };
}
