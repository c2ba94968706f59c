import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { PredictionAnswer, PredictionRecord, ScoreSettings } from '@differad/core';
import { formatLineProblems, type ManifestIndex } from '@differad/datasets';
import { writeFileAtomic } from '@differad/images';
import { createReportPicker, type ReportPick, writeEvalReport } from './eval-report.js';
import type { ReportInvalid } from './report-html.js';
import { openScores } from './score-stream.js';
import type { ScoreSummary } from './score-summary.js';

/** What the outputs are written from. */
export interface EvalOutputsInput {
  readonly outDir: string;
  /** The manifest's ids (indexManifest): the manifest is not read for them again. */
  readonly index: ManifestIndex;
  /** How many records this run evaluates: the first `selected` of the manifest (after --limit). */
  readonly selected: number;
  readonly settings: ScoreSettings;
  /** Paths as the user gave them, reported in metrics.json as `differad score` reports its inputs. */
  readonly manifestArg: string;
  readonly predictionsArg: string;
  readonly title: string;
  readonly facts: readonly (readonly [string, string])[];
  readonly warn: (message: string) => void;
}

/** Invalid answers listed in report.html, with their text; all of them are in scores.jsonl. */
export const REPORT_INVALID_SHOWN = 50;

/** The completions of the invalid answers at the lowest positions (the ones the report lists), at most `k`. */
function createInvalidCompletions(k: number, end: number) {
  const byPosition = new Map<number, string | null>();
  let highest = -1;
  return {
    offer(position: number, prediction: PredictionRecord, parsed: PredictionAnswer) {
      if (position >= end || parsed.answer.kind !== 'invalid' || (byPosition.size >= k && position > highest)) return;
      byPosition.set(position, typeof prediction.completion === 'string' ? prediction.completion : null);
      if (byPosition.size > k) byPosition.delete(highest);
      highest = Math.max(...byPosition.keys());
    },
    get: (position: number) => byPosition.get(position) ?? null,
  };
}

/**
 * Scores what `predictions.jsonl` holds for the evaluated records, exactly as
 * `differad score` would and streaming as it does (openScores), and writes
 * `scores.jsonl`, `metrics.json` and `report.html`; the report keeps a bounded
 * pick of pictures and invalid answers. Only answered records are scored, so
 * an interrupted run reports on what it finished. Null when nothing is
 * answered yet.
 */
export async function writeEvalOutputs(input: EvalOutputsInput): Promise<ScoreSummary | null> {
  const predictionsPath = join(input.outDir, 'predictions.jsonl');
  // No file: no answer has arrived yet (the file is created with the first).
  if (
    !(await access(predictionsPath).then(
      () => true,
      () => false,
    ))
  )
    return null;
  const completions = createInvalidCompletions(REPORT_INVALID_SHOWN, input.selected);
  const opened = await openScores({
    manifestPath: input.index.path,
    index: input.index,
    predictionsPath,
    settings: input.settings,
    limit: input.selected,
    answeredOnly: true,
    onPrediction: completions.offer,
  });
  const { scan } = opened;
  if (scan.problemCount > 0) {
    const more = scan.problemCount - scan.examples.length;
    input.warn(
      `warning: ${scan.problemCount} prediction line(s) not used:\n${formatLineProblems(scan.examples)}${more > 0 ? `\n… and ${more} more` : ''}`,
    );
  }
  if (opened.toScore === 0) return null;
  const picker = createReportPicker<ReportPick>();
  const invalid: ReportInvalid[] = [];
  let invalidCount = 0;
  const { summary } = await opened.writeScores({
    out: join(input.outDir, 'scores.jsonl'),
    manifestPath: input.manifestArg,
    predictionsPath: input.predictionsArg,
    onScore: (score, record, position) => {
      picker.add({ score, record });
      if (score.valid) return;
      invalidCount++;
      if (invalid.length < REPORT_INVALID_SHOWN)
        invalid.push({ id: score.id, class: score.class, reason: score.reason ?? score.kind, completion: completions.get(position) });
    },
  });
  await writeFileAtomic(join(input.outDir, 'metrics.json'), Buffer.from(`${JSON.stringify(summary, null, 2)}\n`, 'utf8'));
  await writeEvalReport({
    path: join(input.outDir, 'report.html'),
    title: input.title,
    facts: input.facts,
    manifestPath: input.index.path,
    ...picker.pick(),
    invalid,
    invalidCount,
    summary,
  });
  return summary;
}
