import { join } from 'node:path';
import { DifferadError, type ManifestRecord } from '@differad/core';
import type { DatasetImageOps, MaskBoxMode } from './dataset-image-ops.js';
import { listDirectories, listImages, requireDirectory, resolveInsideRoot, stemOf, toManifestPath } from './dataset-paths.js';
import {
  BadItems,
  finishImport,
  type ImportCommonOptions,
  type ImportOutput,
  type ImportResult,
  runItems,
  runStagedImport,
} from './import-run.js';
import { checkMaskBox } from './mask-checks.js';
import { toPairedReference } from './pair-reference.js';
import { DEFAULT_TOP_K, describePool, type PoolEntry, rankReferences, toReferencesTopk } from './reference-pool.js';

/** Options of the MVTec AD / VisA-style importer. */
export interface MvtecImportOptions extends ImportCommonOptions {
  /** Folder holding one folder per class (`<class>/train/good`, `<class>/test/<defect>`, `<class>/ground_truth/<defect>`). */
  readonly root: string;
  /** References kept per record in `references_topk` (default 8). */
  readonly topK?: number;
  readonly boxMode?: MaskBoxMode;
  /** Subset written on every record; default: texture/object for the MVTec AD classes, none otherwise. */
  readonly subset?: string;
}

/** The MVTec AD subsets (the dataset paper's texture/object split). */
export const MVTEC_AD_SUBSETS: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(['carpet', 'grid', 'leather', 'tile', 'wood'].map((c) => [c, 'texture'])),
  ...Object.fromEntries(
    ['bottle', 'cable', 'capsule', 'hazelnut', 'metal_nut', 'pill', 'screw', 'toothbrush', 'transistor', 'zipper'].map((c) => [
      c,
      'object',
    ]),
  ),
});

interface TestItem {
  readonly cls: string;
  readonly defect: string;
  readonly image: string;
}

async function findMask(root: string, item: TestItem): Promise<string> {
  const dir = join(root, item.cls, 'ground_truth', item.defect);
  const stem = stemOf(item.image);
  // MVTec AD names masks <stem>_mask.png; VisA converted to this layout uses <stem>.png.
  const names = [`${stem}_mask.png`, `${stem}.png`];
  for (const name of names) {
    const path = join(dir, name);
    try {
      return await resolveInsideRoot(root, path);
    } catch (error) {
      if (!(error instanceof DifferadError) || error.code !== 'DATASET_FILE_MISSING') throw error;
    }
  }
  throw new DifferadError(
    'DATASET_LAYOUT_INVALID',
    `${item.image} is filed as defective (${item.defect}) but has no mask: looked for ${names.map((n) => join(dir, n)).join(', ')}`,
  );
}

async function listTestItems(root: string, cls: string): Promise<TestItem[]> {
  const items: TestItem[] = [];
  for (const defect of await listDirectories(join(root, cls, 'test'))) {
    for (const image of await listImages(join(root, cls, 'test', defect))) items.push({ cls, defect, image });
  }
  return items;
}

async function toRecord<D>(
  item: TestItem,
  pool: readonly PoolEntry<D>[],
  ops: DatasetImageOps<D>,
  ctx: { root: string; output: ImportOutput; options: MvtecImportOptions },
): Promise<ManifestRecord> {
  const { root, output, options } = ctx;
  const { out } = output;
  const target = await resolveInsideRoot(root, item.image);
  const described = await ops.describe(target);
  let box: ManifestRecord['box'] = null;
  let mask: string | undefined;
  if (item.defect !== 'good') {
    mask = await findMask(root, item);
    box = checkMaskBox(target, mask, described.size, await ops.readMaskBox(mask, options.boxMode ?? 'largest'));
  }
  const ranked = rankReferences(pool, described.descriptor, ops, options.topK ?? DEFAULT_TOP_K);
  const subset = options.subset ?? MVTEC_AD_SUBSETS[item.cls];
  // A train/good image of another size than the test image (mixed-size VisA-style trees) is cover-resized to it.
  const rel = `images/${item.cls}/${item.defect}/${stemOf(item.image)}-reference.png`;
  const { reference, reference_resized } = await toPairedReference(ranked[0]?.item as PoolEntry<D>, described.size, rel, output, ops);
  return {
    id: `${item.cls}-${item.defect}-${stemOf(item.image)}`,
    class: item.cls,
    ...(subset === undefined ? {} : { subset }),
    reference,
    target: toManifestPath(out, target),
    width: described.size.width,
    height: described.size.height,
    box,
    ...(mask === undefined ? {} : { mask: toManifestPath(out, mask) }),
    ...(reference_resized === undefined ? {} : { reference_resized }),
    defect: item.defect,
    references_topk: toReferencesTopk(out, ranked),
  };
}

/**
 * Imports an MVTec AD / VisA-style tree (docs/method.md §10): every test image becomes
 * a target; defective ones get the tight box of their mask, `good` ones the
 * empty box; the reference is the most similar `train/good` image of the
 * class, with the top-k kept in `references_topk`. Images stay where they are:
 * the manifest points to them relative to OUT; only a reference of another
 * size than its test image is cover-resized to it under OUT/images. An
 * error leaves OUT as it was.
 */
export async function importMvtec<D>(options: MvtecImportOptions, ops: DatasetImageOps<D>): Promise<ImportResult> {
  const root = await requireDirectory(options.root, 'dataset root');
  return runStagedImport(options, (output) => importClasses(root, output, options, ops));
}

async function importClasses<D>(
  root: string,
  output: ImportOutput,
  options: MvtecImportOptions,
  ops: DatasetImageOps<D>,
): Promise<ImportResult> {
  const classes = [];
  for (const cls of await listDirectories(root)) {
    if ((await listDirectories(join(root, cls))).some((d) => d === 'train' || d === 'test')) classes.push(cls);
  }
  if (classes.length === 0)
    throw new DifferadError('DATASET_LAYOUT_INVALID', `${root} holds no class folder with train/good and test/ inside`);
  const bad = new BadItems(options.skipBad ?? false);
  const records: ManifestRecord[] = [];
  let tests = 0;
  let defective = 0;
  for (const cls of classes) {
    const goodDir = join(root, cls, 'train', 'good');
    const goodPaths = await listImages(goodDir);
    const pool = await describePool(root, goodPaths, ops, options, bad, `${cls}: references`);
    if (pool.length === 0) {
      const why = goodPaths.length === 0 ? 'holds no images' : 'holds no readable image';
      bad.add(goodDir, new DifferadError('DATASET_LAYOUT_INVALID', `class ${cls} has no normal images: ${goodDir} ${why}`));
      continue;
    }
    const items = await listTestItems(root, cls);
    tests += items.length;
    defective += items.filter((t) => t.defect !== 'good').length;
    const made = await runItems(
      items,
      options,
      bad,
      `${cls}: test images`,
      (t) => t.image,
      (t) => toRecord(t, pool, ops, { root, output, options }),
    );
    for (const r of made) if (r !== undefined) records.push(r);
  }
  return finishImport(
    output,
    records,
    bad,
    { classes: classes.length },
    {
      found: `${classes.length} class(es) with ${tests} test image(s) under <class>/test/, ${defective} of them filed as defective`,
      defective,
    },
  );
}
