import { type Box, type ManifestRecord, type PredictionRecord, type SampleScore } from '@differad/core';
import { resolveManifestPath } from '@differad/datasets';
import { type DrawnBox, encodeRawImage, renderPairPreview, resizeRawImage, writeFileAtomic } from '@differad/images';
import { type ReportData, type ReportInvalid, type ReportSample, toReportHtml } from './report-html.js';
import type { ScoreSummary } from './score-summary.js';

/** Samples pictured at each end. */
export const REPORT_SAMPLES = 6;
/** Widest preview embedded, pixels. */
const PREVIEW_MAX_WIDTH = 640;

/** What the report is made from. */
export interface EvalReportInput {
  readonly path: string;
  readonly title: string;
  readonly facts: ReportData['facts'];
  readonly manifestPath: string;
  readonly records: ReadonlyMap<string, ManifestRecord>;
  readonly scores: readonly SampleScore[];
  readonly predictions: ReadonlyMap<string, PredictionRecord>;
  readonly summary: ScoreSummary;
}

/** Worst first: lowest u, then lowest reward; ids break ties so the page is reproducible. */
function compareWorst(a: SampleScore, b: SampleScore): number {
  return a.u - b.u || a.reward - b.reward || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Best first: anomalous before normal (a well-placed box says more than a
 * correctly empty picture, and normal samples score u = 1 whenever they are
 * right), then highest u, then highest reward.
 */
function compareBest(a: SampleScore, b: SampleScore): number {
  return Number(b.anomalous) - Number(a.anomalous) || b.u - a.u || b.reward - a.reward || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The worst and the best samples, disjoint. */
export function selectReportSamples(scores: readonly SampleScore[], k = REPORT_SAMPLES): { worst: SampleScore[]; best: SampleScore[] } {
  const worst = [...scores].sort(compareWorst).slice(0, Math.min(k, Math.ceil(scores.length / 2)));
  const shown = new Set(worst.map((s) => s.id));
  const best = scores.filter((s) => !shown.has(s.id)).sort(compareBest).slice(0, k);
  return { worst, best };
}

async function renderPreview(input: EvalReportInput, score: SampleScore): Promise<string | null> {
  const record = input.records.get(score.id);
  if (record === undefined) return null;
  const boxes: DrawnBox[] = [];
  if (record.box !== null) boxes.push({ box: record.box as Box, kind: 'gt' });
  if (score.box_pixels !== null) boxes.push({ box: score.box_pixels, kind: 'pred' });
  try {
    let image = await renderPairPreview(resolveManifestPath(input.manifestPath, record.reference), resolveManifestPath(input.manifestPath, record.target), {
      boxes,
      title: `${score.id} · ${score.class}`,
    });
    if (image.width > PREVIEW_MAX_WIDTH) {
      image = await resizeRawImage(image, { width: PREVIEW_MAX_WIDTH, height: Math.max(1, Math.round((image.height * PREVIEW_MAX_WIDTH) / image.width)) });
    }
    return `data:image/jpeg;base64,${(await encodeRawImage(image, 'jpeg', { quality: 80 })).toString('base64')}`;
  } catch {
    // A picture that cannot be drawn (an image gone since the run) must not cost the report.
    return null;
  }
}

function describe(score: SampleScore): string {
  const truth = score.gt_box === null ? 'normal' : `truth ${JSON.stringify(score.gt_box)}`;
  const answer = score.kind === 'box' ? `answer ${JSON.stringify(score.box)}` : score.kind === 'empty' ? 'answer: no anomaly' : `answer invalid: ${score.reason ?? ''}`;
  return `${truth} · ${answer} (${score.frame})`;
}

async function toReportSample(input: EvalReportInput, score: SampleScore): Promise<ReportSample> {
  return { id: score.id, class: score.class, u: score.u, kind: score.kind, image: await renderPreview(input, score), note: describe(score) };
}

/** Builds and writes `report.html`: one file, CSS and JPEG previews inline. */
export async function writeEvalReport(input: EvalReportInput): Promise<void> {
  const { worst, best } = selectReportSamples(input.scores);
  const invalid: ReportInvalid[] = input.scores
    .filter((s) => !s.valid)
    .map((s) => {
      const p = input.predictions.get(s.id);
      return { id: s.id, class: s.class, reason: s.reason ?? s.kind, completion: p !== undefined && typeof p.completion === 'string' ? p.completion : null };
    });
  const html = toReportHtml({
    title: input.title,
    facts: input.facts,
    summary: input.summary,
    worst: await Promise.all(worst.map((s) => toReportSample(input, s))),
    best: await Promise.all(best.map((s) => toReportSample(input, s))),
    invalid,
  });
  await writeFileAtomic(input.path, Buffer.from(html, 'utf8'));
}
