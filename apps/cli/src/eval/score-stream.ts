import {
  type AnswerTable,
  computeAnswerScore,
  createAnswerTable,
  DifferadError,
  type ManifestRecord,
  type PredictionAnswer,
  type PredictionRecord,
  type SampleScore,
  type ScoreLine,
  type ScoreSettings,
  toPredictionAnswer,
  toScoreLine,
} from '@differad/core';
import {
  type IndexManifestOptions,
  indexManifest,
  type ManifestIndex,
  type PredictionScan,
  readManifest,
  scanPredictions,
  writeJsonlAtomically,
} from '@differad/datasets';
import { createScoreSummarySums, type ScoreSummary, type SummaryPaths } from './score-summary.js';

/** Ids named when manifest records have no prediction; the rest are counted. */
const MISSING_EXAMPLES = 10;

/** What to score. */
export interface ScoreStreamInput {
  readonly manifestPath: string;
  readonly predictionsPath: string;
  readonly settings: ScoreSettings;
  /** Score only the first `limit` records of the manifest (eval's --limit). */
  readonly limit?: number | undefined;
  /** Score only records with a prediction (eval, which reports on what it finished); otherwise the rest are scored as missing. */
  readonly answeredOnly?: boolean;
  /** Sees every used prediction once, with its parsed answer, while the file streams by. */
  readonly onPrediction?: (position: number, prediction: PredictionRecord, parsed: PredictionAnswer) => void;
  /** The manifest already indexed (by indexManifest of `manifestPath`): it is not read for its ids again. */
  readonly index?: ManifestIndex;
  /** How the manifest's ids are indexed when `index` is not given (default: indexManifest's compact index). */
  readonly indexOptions?: IndexManifestOptions;
}

/** How the scores are written and what else sees them. */
export interface WriteScoresOptions extends SummaryPaths {
  /** Where one ScoreLine per scored record goes (written to a temporary file, renamed at the end). */
  readonly out?: string | undefined;
  readonly onScore?: (score: SampleScore, record: ManifestRecord, position: number) => void;
}

/** A manifest indexed and its predictions parsed, ready to be scored in manifest order. */
export interface OpenedScores {
  readonly index: ManifestIndex;
  readonly scan: PredictionScan;
  /** Records that will be scored. */
  readonly toScore: number;
  /** Scores every record in manifest order, streaming the manifest once more; returns the summary and the first missing ids. */
  writeScores(options: WriteScoresOptions): Promise<{ summary: ScoreSummary; missingIds: readonly string[] }>;
}

/**
 * Scores a prediction file against a manifest in memory that does not grow
 * with the files' text: the manifest is read once for its ids (id → position),
 * predictions stream by and are parsed on the spot into a compact AnswerTable
 * (no completion is kept), then the manifest streams again and each record is
 * scored, summed (createScoreSummarySums) and written as it comes, in
 * manifest order, exactly as `computeScoreSummary` would score it.
 */
export async function openScores(input: ScoreStreamInput): Promise<OpenedScores> {
  const { settings } = input;
  const index = input.index ?? (await indexManifest(input.manifestPath, input.indexOptions));
  const answers = createAnswerTable(index.size);
  const scan = await scanPredictions(input.predictionsPath, index.positions, (position, prediction) => {
    const parsed = toPredictionAnswer(prediction, settings);
    answers.set(position, parsed);
    input.onPrediction?.(position, prediction, parsed);
  });
  const end = Math.min(index.size, input.limit ?? index.size);
  const toScore = input.answeredOnly === true ? answers.countBelow(end) : end;
  return {
    index,
    scan,
    toScore,
    writeScores: (options) => writeScores({ input, index, answers, scan, end }, options),
  };
}

interface ScoreState {
  readonly input: ScoreStreamInput;
  readonly index: ManifestIndex;
  readonly answers: AnswerTable;
  readonly scan: PredictionScan;
  readonly end: number;
}

async function writeScores(state: ScoreState, options: WriteScoresOptions) {
  const { input, index, answers, scan, end } = state;
  const sums = createScoreSummarySums(input.settings);
  const missingIds: string[] = [];
  const changed = (what: string) =>
    new DifferadError('MANIFEST_CHANGED', `manifest ${input.manifestPath} changed while it was scored (${what}); score again`);
  async function* scoreLines(): AsyncGenerator<ScoreLine> {
    let position = 0;
    for await (const entry of readManifest(input.manifestPath)) {
      if (position >= end) return;
      if (entry.record === undefined || index.positions.get(entry.record.id) !== position)
        throw changed(`line ${entry.line} differs from the first read`);
      const parsed = answers.get(position);
      if (parsed !== undefined || input.answeredOnly !== true) {
        const score = computeAnswerScore(entry.record, parsed, input.settings);
        sums.add(score);
        if (parsed === undefined && missingIds.length < MISSING_EXAMPLES) missingIds.push(score.id);
        options.onScore?.(score, entry.record, position);
        yield toScoreLine(score);
      }
      position++;
    }
    if (position < end) throw changed(`${position} records where ${index.size} were read first`);
  }
  if (options.out !== undefined) {
    await writeJsonlAtomically(options.out, scoreLines());
  } else {
    for await (const line of scoreLines()) void line;
  }
  return { summary: sums.toSummary(options, scan), missingIds };
}
