import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { type ManifestRecord, type ScoreSettings, toScoreLine } from '@differad/core';
import { formatLineProblems, type LoadedManifest, loadPredictions, writeJsonlAtomically } from '@differad/datasets';
import { writeFileAtomic } from '@differad/images';
import { writeEvalReport } from './eval-report.js';
import { computeScoreSummary, type ScoreSummary } from './score-summary.js';

/** What the outputs are written from. */
export interface EvalOutputsInput {
  readonly outDir: string;
  readonly manifest: LoadedManifest;
  /** The records this run evaluates (after --limit). */
  readonly selected: readonly ManifestRecord[];
  readonly settings: ScoreSettings;
  /** Paths as the user gave them, reported in metrics.json as `differad score` reports its inputs. */
  readonly manifestArg: string;
  readonly predictionsArg: string;
  readonly title: string;
  readonly facts: readonly (readonly [string, string])[];
  readonly warn: (message: string) => void;
}

/**
 * Scores what `predictions.jsonl` holds for the evaluated records, exactly as
 * `differad score` would, and writes `scores.jsonl`, `metrics.json` and
 * `report.html`. Only answered records are scored, so an interrupted run
 * reports on what it finished. Null when nothing is answered yet.
 */
export async function writeEvalOutputs(input: EvalOutputsInput): Promise<ScoreSummary | null> {
  const predictionsPath = join(input.outDir, 'predictions.jsonl');
  // No file: no answer has arrived yet (the file is created with the first).
  if (!(await access(predictionsPath).then(() => true, () => false))) return null;
  const predictions = await loadPredictions(predictionsPath, new Set(input.manifest.lines.keys()));
  const problems = [...predictions.malformed, ...predictions.duplicates, ...predictions.unknown].sort((a, b) => a.line - b.line);
  if (problems.length > 0) input.warn(`warning: ${problems.length} prediction line(s) not used:\n${formatLineProblems(problems)}`);
  const answered = input.selected.filter((r) => predictions.byId.has(r.id));
  if (answered.length === 0) return null;
  const { summary, scores } = computeScoreSummary({
    records: answered,
    predictions,
    settings: input.settings,
    manifestPath: input.manifestArg,
    predictionsPath: input.predictionsArg,
  });
  await writeJsonlAtomically(join(input.outDir, 'scores.jsonl'), scores.map(toScoreLine));
  await writeFileAtomic(join(input.outDir, 'metrics.json'), Buffer.from(`${JSON.stringify(summary, null, 2)}\n`, 'utf8'));
  await writeEvalReport({
    path: join(input.outDir, 'report.html'),
    title: input.title,
    facts: input.facts,
    manifestPath: input.manifest.path,
    records: new Map(answered.map((r) => [r.id, r])),
    scores,
    predictions: predictions.byId,
    summary,
  });
  return summary;
}
