import { type Box, type ManifestRecord, type SampleScore } from '@differad/core';
import { resolveManifestPath } from '@differad/datasets';
import { type DrawnBox, encodeRawImage, renderPairPreview, resizeRawImage, writeFileAtomic } from '@differad/images';
import { type ReportData, type ReportInvalid, type ReportSample, toReportHtml } from './report-html.js';
import type { ScoreSummary } from './score-summary.js';

/** Samples pictured at each end. */
export const REPORT_SAMPLES = 6;
/** Widest preview embedded, pixels. */
const PREVIEW_MAX_WIDTH = 640;

/** A pictured sample: its score and its manifest record. */
export interface ReportPick {
  readonly score: SampleScore;
  readonly record: ManifestRecord;
}

/** What the report is made from. */
export interface EvalReportInput {
  readonly path: string;
  readonly title: string;
  readonly facts: ReportData['facts'];
  readonly manifestPath: string;
  readonly worst: readonly ReportPick[];
  readonly best: readonly ReportPick[];
  /** The first invalid answers in manifest order, and how many there are in all. */
  readonly invalid: readonly ReportInvalid[];
  readonly invalidCount: number;
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

/** Keeps the `k` first items by `compare` of what it is offered. */
function keepFirst<T>(k: number, compare: (a: T, b: T) => number) {
  const kept: T[] = [];
  return {
    offer(item: T) {
      if (kept.length === k && compare(item, kept[k - 1]!) >= 0) return;
      const at = kept.findIndex((x) => compare(item, x) < 0);
      kept.splice(at < 0 ? kept.length : at, 0, item);
      if (kept.length > k) kept.pop();
    },
    kept: () => kept,
  };
}

/**
 * Picks the worst and the best samples as they stream by, in memory bounded
 * by `k`: the k worst, and the 2k best (at most k of them are also among the
 * worst), which gives exactly what sorting every score would.
 */
export function createReportPicker<T extends { readonly score: SampleScore }>(k = REPORT_SAMPLES) {
  const worst = keepFirst<T>(k, (a, b) => compareWorst(a.score, b.score));
  const best = keepFirst<T>(2 * k, (a, b) => compareBest(a.score, b.score));
  let n = 0;
  return {
    add(item: T) {
      n++;
      worst.offer(item);
      best.offer(item);
    },
    pick(): { worst: T[]; best: T[] } {
      const w = worst.kept().slice(0, Math.min(k, Math.ceil(n / 2)));
      const shown = new Set(w.map((x) => x.score.id));
      return {
        worst: w,
        best: best
          .kept()
          .filter((x) => !shown.has(x.score.id))
          .slice(0, k),
      };
    },
  };
}

/** The worst and the best samples, disjoint. */
export function selectReportSamples(scores: readonly SampleScore[], k = REPORT_SAMPLES): { worst: SampleScore[]; best: SampleScore[] } {
  const picker = createReportPicker<{ score: SampleScore }>(k);
  for (const score of scores) picker.add({ score });
  const { worst, best } = picker.pick();
  return { worst: worst.map((x) => x.score), best: best.map((x) => x.score) };
}

async function renderPreview(input: EvalReportInput, { score, record }: ReportPick): Promise<string | null> {
  const boxes: DrawnBox[] = [];
  if (record.box !== null) boxes.push({ box: record.box as Box, kind: 'gt' });
  if (score.box_pixels !== null) boxes.push({ box: score.box_pixels, kind: 'pred' });
  try {
    let image = await renderPairPreview(
      resolveManifestPath(input.manifestPath, record.reference),
      resolveManifestPath(input.manifestPath, record.target),
      {
        boxes,
        title: `${score.id} · ${score.class}`,
      },
    );
    if (image.width > PREVIEW_MAX_WIDTH) {
      image = await resizeRawImage(image, {
        width: PREVIEW_MAX_WIDTH,
        height: Math.max(1, Math.round((image.height * PREVIEW_MAX_WIDTH) / image.width)),
      });
    }
    return `data:image/jpeg;base64,${(await encodeRawImage(image, 'jpeg', { quality: 80 })).toString('base64')}`;
  } catch {
    // A picture that cannot be drawn (an image gone since the run) must not cost the report.
    return null;
  }
}

function describe(score: SampleScore): string {
  const truth = score.gt_box === null ? 'normal' : `truth ${JSON.stringify(score.gt_box)}`;
  const answer =
    score.kind === 'box'
      ? `answer ${JSON.stringify(score.box)}`
      : score.kind === 'empty'
        ? 'answer: no anomaly'
        : `answer invalid: ${score.reason ?? ''}`;
  return `${truth} · ${answer} (${score.frame})`;
}

async function toReportSample(input: EvalReportInput, pick: ReportPick): Promise<ReportSample> {
  const { score } = pick;
  return { id: score.id, class: score.class, u: score.u, kind: score.kind, image: await renderPreview(input, pick), note: describe(score) };
}

/** Builds and writes `report.html`: one file, CSS and JPEG previews inline. */
export async function writeEvalReport(input: EvalReportInput): Promise<void> {
  const html = toReportHtml({
    title: input.title,
    facts: input.facts,
    summary: input.summary,
    worst: await Promise.all(input.worst.map((p) => toReportSample(input, p))),
    best: await Promise.all(input.best.map((p) => toReportSample(input, p))),
    invalid: input.invalid,
    invalidCount: input.invalidCount,
  });
  await writeFileAtomic(input.path, Buffer.from(html, 'utf8'));
}
