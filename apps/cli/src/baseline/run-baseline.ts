import { join } from 'node:path';
import { loadConfig } from '@differad/config';
import {
  calibrateThreshold,
  createRng,
  DifferadError,
  type ManifestRecord,
  type PredictionRecord,
  type ScoreSettings,
  splitCalibration,
  type ThresholdCalibration,
  toScoreLine,
} from '@differad/core';
import { type LoadedPredictions, loadManifest, writeJsonlAtomically } from '@differad/datasets';
import { writeFileAtomic } from '@differad/images';
import { type CliIo, resolvePath } from '../cli-io.js';
import { checkPairFiles } from '../eval/eval-inputs.js';
import { computeScoreSummary, type ScoreSummary } from '../eval/score-summary.js';
import { createProgress, type Progress } from '../output/progress.js';
import { formatMetricTable } from '../output/score-table.js';
import { computeBaselineMaps, toBaselineBox, toBaselinePolicy, toPolicyBlur } from './baseline-maps.js';

/** Options of `differad baseline`. */
export interface BaselineOptions {
  manifest: string;
  out: string;
  /** Share of the samples that calibrates the threshold. */
  calibration: number;
  seed: number;
  /** Blur radius of the map in working pixels (default: the CPU policy's mean). */
  blur?: number;
  json?: boolean;
}

/** `metrics.json` of a baseline run: the `differad score --json` object of the evaluation part, plus how it was made. */
export interface BaselineSummary extends ScoreSummary {
  readonly baseline: {
    readonly method: string;
    readonly threshold: number;
    readonly blur: number;
    readonly seed: number;
    readonly calibration_share: number;
    readonly calibration_n: number;
    readonly calibration_f1: number;
    readonly calibration_acc: number;
    readonly candidates: number;
    readonly evaluation_n: number;
    readonly calibration_ids: readonly string[];
  };
}

/** Maps of anomaly detectors are kept in memory: a few hundred 160-pixel maps are a few MB. */
const MAP_CONCURRENCY = 4;

function toBaselineField(
  opts: BaselineOptions,
  blur: number,
  calibration: ThresholdCalibration,
  calIds: string[],
  evaluationN: number,
): BaselineSummary['baseline'] {
  return {
    method: 'CPU-policy anomaly map, threshold of best calibration F1@τ, tight box of the largest component (docs/method.md §11)',
    threshold: calibration.threshold,
    blur,
    seed: opts.seed,
    calibration_share: opts.calibration,
    calibration_n: calIds.length,
    calibration_f1: calibration.f1,
    calibration_acc: calibration.acc,
    candidates: calibration.candidates,
    evaluation_n: evaluationN,
    calibration_ids: calIds,
  };
}

function formatSummary(summary: BaselineSummary, opts: BaselineOptions): string {
  const b = summary.baseline;
  const pct = (v: number) => (v * 100).toFixed(2);
  return [
    `differad baseline: ${b.calibration_n} calibration + ${b.evaluation_n} evaluation samples · seed ${b.seed} · blur ${b.blur} · τ ${summary.tau}`,
    `threshold ${b.threshold.toFixed(4)} (best of ${b.candidates} · calibration F1@${summary.tau} ${pct(b.calibration_f1)} · Acc@${summary.tau} ${pct(b.calibration_acc)})`,
    '',
    'evaluation part:',
    formatMetricTable(summary),
    '',
    `written: ${join(opts.out, 'scores.jsonl')}, ${join(opts.out, 'metrics.json')}, ${join(opts.out, 'predictions.jsonl')}`,
  ].join('\n');
}

/**
 * Runs the docs/method.md §11 non-LLM baseline: the CPU policy's anomaly map of every
 * pair, a seeded calibration split, the threshold of best calibration F1@τ,
 * then the evaluation part scored exactly as `differad score` scores pixel
 * boxes. Returns the exit code.
 */
export async function runBaseline(opts: BaselineOptions, io: CliIo): Promise<number> {
  const started = performance.now();
  const config = loadConfig({ env: io.env });
  const manifest = await loadManifest(resolvePath(io, opts.manifest));
  const records = manifest.records;
  if (records.length < 2)
    throw new DifferadError(
      'MANIFEST_INVALID',
      `manifest ${manifest.path} has ${records.length} sample(s): a calibration split needs at least 2`,
    );
  await checkPairFiles(manifest, records);

  const policy = toBaselinePolicy(opts.blur);
  const mapProgress = createProgress(io, 'maps', records.length);
  const maps = await computeBaselineMaps(manifest.path, records, policy, {
    concurrency: MAP_CONCURRENCY,
    onMap: (done) => mapProgress.tick(done),
  });
  mapProgress.finish();

  const split = splitCalibration(records.length, opts.calibration, createRng(opts.seed));
  let calProgress: Progress | undefined;
  const calibration = calibrateThreshold(
    split.calibration.map((i) => maps[i]!),
    toBaselineBox,
    {
      tau: config.reward.tau,
      onCandidate: (done, total) => (calProgress ??= createProgress(io, 'calibrate', total)).tick(done),
    },
  );
  calProgress?.finish(`threshold ${calibration.threshold.toFixed(4)} · F1@${config.reward.tau} ${(calibration.f1 * 100).toFixed(1)}%`);

  const evaluated: ManifestRecord[] = split.evaluation.map((i) => records[i]!);
  const predictions: PredictionRecord[] = split.evaluation.map((i) => ({
    id: records[i]!.id,
    box: toBaselineBox(maps[i]!, calibration.threshold),
  }));
  const loaded: LoadedPredictions = {
    path: join(opts.out, 'predictions.jsonl'),
    byId: new Map(predictions.map((p) => [p.id, p])),
    lineCount: predictions.length,
    malformed: [],
    duplicates: [],
    unknown: [],
  };
  const settings: ScoreSettings = { family: 'differad', frame: 'pixels', resize: config.resize, reward: config.reward };
  const { summary: scored, scores } = computeScoreSummary({
    records: evaluated,
    predictions: loaded,
    settings,
    manifestPath: opts.manifest,
    predictionsPath: loaded.path,
  });
  const calIds = split.calibration.map((i) => records[i]!.id);
  const summary: BaselineSummary = {
    ...scored,
    baseline: toBaselineField(opts, toPolicyBlur(policy), calibration, calIds, evaluated.length),
  };

  const outDir = resolvePath(io, opts.out);
  await writeJsonlAtomically(join(outDir, 'predictions.jsonl'), predictions);
  await writeJsonlAtomically(join(outDir, 'scores.jsonl'), scores.map(toScoreLine));
  await writeFileAtomic(join(outDir, 'metrics.json'), Buffer.from(`${JSON.stringify(summary, null, 2)}\n`, 'utf8'));
  io.stdout(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary, opts)}\n`);
  io.stderr(`baseline done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}
