import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Box,
  createRng,
  DifferadError,
  type ImageSize,
  type ManifestRecord,
  parseDeeppcbAnnotation,
  selectDefectWindows,
  selectNormalWindows,
  toCroppedBox,
} from '@differad/core';
import type { DatasetImageOps } from './dataset-image-ops.js';
import { requireDirectory, resolveInsideRoot, toManifestPath } from './dataset-paths.js';
import { DEEPPCB_SPLITS, type DeeppcbPair, type DeeppcbSplit, readDeeppcbList } from './deeppcb-list.js';
import {
  BadItems,
  finishImport,
  type ImportCommonOptions,
  type ImportOutput,
  type ImportResult,
  runItems,
  runStagedImport,
  toStagedPath,
} from './import-run.js';

/** Options of the DeepPCB importer. */
export interface DeeppcbImportOptions extends ImportCommonOptions {
  /** Folder holding the `groupNNNNN` folders and the list files (`trainval.txt`, `test.txt`). */
  readonly root: string;
  readonly split?: DeeppcbSplit | 'all';
  /** Side of the square window cut from both images (default 160). */
  readonly window?: number;
  /** Defect-free windows per pair, as normal samples (default 1). */
  readonly normalsPerImage?: number;
  /** Seed of the normal-window choice (default "deeppcb"). */
  readonly seed?: string;
}

/** Class of the defect-free windows (defect windows are classed by defect type). */
export const DEEPPCB_NORMAL_CLASS = 'normal';

interface PairOutcome {
  readonly records: ManifestRecord[];
  readonly defects: number;
  readonly tooClose: number;
  readonly tooLarge: number;
  /** Longest side of the defects larger than the window (0 when none is). */
  readonly largestSide: number;
}

async function readPairBoxes<D>(root: string, pair: DeeppcbPair, ops: DatasetImageOps<D>) {
  const tested = await resolveInsideRoot(root, pair.tested);
  const template = await resolveInsideRoot(root, pair.template);
  const annotation = await resolveInsideRoot(root, pair.annotation);
  const [size, templateSize] = await Promise.all([ops.readSize(tested), ops.readSize(template)]);
  if (size.width !== templateSize.width || size.height !== templateSize.height) {
    throw new DifferadError(
      'DATASET_PAIR_SIZE_MISMATCH',
      `template ${template} is ${templateSize.width}×${templateSize.height}, tested image ${tested} is ${size.width}×${size.height}`,
    );
  }
  const parsed = parseDeeppcbAnnotation(await readFile(annotation, 'utf8'), size);
  const first = parsed.problems[0];
  if (first !== undefined) {
    const more = parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more)` : '';
    throw new DifferadError('DATASET_ANNOTATION_INVALID', `${annotation}:${first.line}: ${first.message}${more}`, {
      details: { file: annotation },
    });
  }
  return { tested, template, size, defects: parsed.defects };
}

function checkWindowFits(tested: string, size: ImageSize, window: number): void {
  if (size.width < window || size.height < window) {
    const most = Math.min(size.width, size.height);
    throw new DifferadError(
      'DATASET_IMAGE_TOO_SMALL',
      `${tested} is ${size.width}×${size.height}, smaller than the ${window}-pixel window: pass a --window of at most ${most}`,
    );
  }
}

async function importPair<D>(
  root: string,
  output: ImportOutput,
  pair: DeeppcbPair,
  ops: DatasetImageOps<D>,
  options: DeeppcbImportOptions,
): Promise<PairOutcome> {
  const window = options.window ?? 160;
  const { tested, template, size, defects } = await readPairBoxes(root, pair, ops);
  checkWindowFits(tested, size, window);
  const boxes = defects.map((d) => d.box);
  const chosen = selectDefectWindows(boxes, size, window);
  const normals = selectNormalWindows(
    boxes,
    size,
    window,
    options.normalsPerImage ?? 1,
    createRng(`${options.seed ?? 'deeppcb'}:${pair.id}`),
  );
  const cuts: { id: string; window: Box; cls: string; box: Box | null }[] = [];
  for (const w of chosen) {
    if (!w.ok) continue;
    const defect = defects[w.index]!;
    cuts.push({ id: `deeppcb-${pair.id}-d${defect.line}`, window: w.window, cls: defect.type, box: toCroppedBox(defect.box, w.window) });
  }
  normals.forEach((w, k) => cuts.push({ id: `deeppcb-${pair.id}-n${k + 1}`, window: w, cls: DEEPPCB_NORMAL_CLASS, box: null }));
  const files = (id: string) => ({ reference: `images/${id}-reference.png`, target: `images/${id}-target.png` });
  await ops.cropToFiles(
    template,
    cuts.map((c) => ({ box: c.window, path: toStagedPath(output, files(c.id).reference) })),
  );
  await ops.cropToFiles(
    tested,
    cuts.map((c) => ({ box: c.window, path: toStagedPath(output, files(c.id).target) })),
  );
  const source = { reference: toManifestPath(output.out, template), target: toManifestPath(output.out, tested) };
  const records = cuts.map(
    (c): ManifestRecord => ({
      id: c.id,
      class: c.cls,
      subset: pair.split,
      reference: files(c.id).reference,
      target: files(c.id).target,
      width: window,
      height: window,
      box: c.box,
      source: { ...source, crop: c.window },
    }),
  );
  const large = chosen.filter((w) => !w.ok && w.reason === 'larger-than-window').map((w) => boxes[w.index]!);
  const largestSide = Math.max(0, ...large.map((b) => Math.max(b[2] - b[0], b[3] - b[1])));
  return {
    records,
    defects: defects.length,
    tooClose: chosen.filter((w) => !w.ok).length - large.length,
    tooLarge: large.length,
    largestSide,
  };
}

/** Why defects got no window, with the --window that would help; and that no normal window was asked for. */
function toWindowReasons(
  d: { defects_too_close: number; defects_larger_than_window: number },
  largestSide: number,
  options: DeeppcbImportOptions,
): string[] {
  const window = options.window ?? 160;
  const reasons: string[] = [];
  if (d.defects_larger_than_window > 0) {
    reasons.push(
      `${d.defects_larger_than_window} defect(s) are larger than the ${window}-pixel window (the largest spans ${largestSide} px): pass a larger --window`,
    );
  }
  if (d.defects_too_close > 0)
    reasons.push(
      `${d.defects_too_close} defect(s) have no ${window}-pixel window clear of other defects: a smaller --window may leave room`,
    );
  if ((options.normalsPerImage ?? 1) === 0) reasons.push('--normals-per-image is 0');
  return reasons;
}

async function listPairs(root: string, split: DeeppcbSplit | 'all', bad: BadItems): Promise<DeeppcbPair[]> {
  const splits = split === 'all' ? DEEPPCB_SPLITS.filter((s) => existsSync(join(root, `${s}.txt`))) : [split];
  if (splits.length === 0) throw new DifferadError('DATASET_LAYOUT_INVALID', `${root} holds neither trainval.txt nor test.txt`);
  const pairs: DeeppcbPair[] = [];
  const seen = new Set<string>();
  for (const s of splits) {
    const list = await readDeeppcbList(root, s);
    for (const p of list.problems) bad.add(p.origin, new DifferadError('DATASET_LAYOUT_INVALID', `${p.origin}: ${p.message}`));
    for (const pair of list.pairs) {
      if (seen.has(pair.id)) continue;
      seen.add(pair.id);
      pairs.push(pair);
    }
  }
  return pairs;
}

/**
 * Imports DeepPCB (docs/method.md §10): for every listed pair, each defect that fits a
 * `window`×`window` square touching no other defect becomes one sample — the
 * same window cut from template (reference) and tested image (target), class =
 * defect type, box in window pixels — and `normalsPerImage` defect-free windows
 * become normal samples. Crops go to OUT/images; `source` keeps the window in
 * source pixels; `subset` is the split. An error leaves OUT as it was.
 */
export async function importDeeppcb<D>(options: DeeppcbImportOptions, ops: DatasetImageOps<D>): Promise<ImportResult> {
  const root = await requireDirectory(options.root, 'dataset root');
  return runStagedImport(options, (output) => importPairs(root, output, options, ops));
}

async function importPairs<D>(
  root: string,
  output: ImportOutput,
  options: DeeppcbImportOptions,
  ops: DatasetImageOps<D>,
): Promise<ImportResult> {
  const bad = new BadItems(options.skipBad ?? false);
  const pairs = await listPairs(root, options.split ?? 'all', bad);
  const outcomes = await runItems(
    pairs,
    options,
    bad,
    'pairs',
    (p) => join(root, p.tested),
    (p) => importPair(root, output, p, ops, options),
  );
  const done = outcomes.filter((o): o is PairOutcome => o !== undefined);
  const sum = (f: (o: PairOutcome) => number) => done.reduce((s, o) => s + f(o), 0);
  const details = {
    pairs: done.length,
    defects: sum((o) => o.defects),
    defects_too_close: sum((o) => o.tooClose),
    defects_larger_than_window: sum((o) => o.tooLarge),
  };
  return finishImport(
    output,
    done.flatMap((o) => o.records),
    bad,
    details,
    {
      found: `${details.pairs} pair(s) with ${details.defects} defect(s)`,
      defective: details.defects,
      reasons: toWindowReasons(details, Math.max(0, ...done.map((o) => o.largestSide)), options),
    },
  );
}
