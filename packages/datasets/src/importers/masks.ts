import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { existsSync } from 'node:fs';
import { DifferadError, type ImageSize, type ManifestRecord, toScaledBox } from '@differad/core';
import type { DatasetImageOps, MaskBoxMode } from './dataset-image-ops.js';
import { listImagesDeep, requireDirectory, resolveInsideRoot, stemOf, toManifestPath } from './dataset-paths.js';
import { BadItems, finishImport, type ImportCommonOptions, type ImportResult, prepareOutput, runItems } from './import-run.js';
import { checkMaskBox } from './mask-checks.js';
import { DEFAULT_TOP_K, describePool, type PoolEntry, rankReferences, toReferencesTopk } from './reference-pool.js';

/** Options of the generic images-with-masks importer. */
export interface MasksImportOptions extends ImportCommonOptions {
  /** Target images; the first folder level below is the class. */
  readonly images: string;
  /** Mask folder mirroring `images` (default: `images` itself, masks beside their images). */
  readonly masks?: string;
  /** Mask file name for an image: `{stem}` and `{ext}` are replaced (default `{stem}.png`). */
  readonly maskPattern?: string;
  /** Defect-free images: `<normals>/<class>/…` per class, or images directly in `<normals>` for every class. */
  readonly normals: string;
  readonly topK?: number;
  readonly boxMode?: MaskBoxMode;
}

interface Target {
  readonly cls: string;
  readonly image: string;
  readonly mask: string;
}

/** The mask path of `image` under `pattern`, mirrored from the images root to the masks root. */
export function toMaskPath(imagesRoot: string, masksRoot: string, pattern: string, image: string): string {
  const name = pattern.replaceAll('{stem}', stemOf(image)).replaceAll('{ext}', extname(image).slice(1));
  return join(masksRoot, relative(imagesRoot, dirname(image)), name);
}

function classOf(root: string, file: string): string {
  const rel = relative(root, file).split(sep);
  return rel.length > 1 ? (rel[0] as string) : basename(root);
}

async function listTargets(options: MasksImportOptions, imagesRoot: string, masksRoot: string): Promise<Target[]> {
  const pattern = options.maskPattern ?? '{stem}.png';
  if (!pattern.includes('{stem}')) throw new DifferadError('DATASET_LAYOUT_INVALID', `--mask-pattern "${pattern}" must contain {stem}`);
  const files = await listImagesDeep(imagesRoot);
  const targets = files.map((image) => ({ cls: classOf(imagesRoot, image), image, mask: toMaskPath(imagesRoot, masksRoot, pattern, image) }));
  // Masks beside their images (`{stem}.png` next to a `.jpg`) are not targets themselves.
  const maskSet = new Set(targets.map((t) => t.mask));
  return targets.filter((t) => !maskSet.has(t.image));
}

async function normalsByClass(normalsRoot: string): Promise<{ shared: string[]; byClass: Map<string, string[]> }> {
  const shared: string[] = [];
  const byClass = new Map<string, string[]>();
  for (const file of await listImagesDeep(normalsRoot)) {
    const rel = relative(normalsRoot, file).split(sep);
    if (rel.length === 1) shared.push(file);
    else byClass.set(rel[0] as string, [...(byClass.get(rel[0] as string) ?? []), file]);
  }
  return { shared, byClass };
}

async function pairFiles<D>(t: Target, best: PoolEntry<D>, targetSize: ImageSize, ops: DatasetImageOps<D>, base: string) {
  const same = best.size.width === targetSize.width && best.size.height === targetSize.height;
  if (same) return { reference: best.path, target: t.image, size: targetSize, resized: false };
  // Bring both to the smaller of the two sizes, so nothing is upsampled more than needed.
  const size = best.size.width * best.size.height < targetSize.width * targetSize.height ? best.size : targetSize;
  const reference = size === best.size ? best.path : `${base}-reference.png`;
  const target = size === targetSize ? t.image : `${base}-target.png`;
  if (reference !== best.path) await ops.resizeToFile(best.path, size, reference);
  if (target !== t.image) await ops.resizeToFile(t.image, size, target);
  return { reference, target, size, resized: true };
}

async function toRecord<D>(t: Target, pool: readonly PoolEntry<D>[], ops: DatasetImageOps<D>, ctx: { options: MasksImportOptions; imagesRoot: string; masksRoot: string; out: string }): Promise<ManifestRecord> {
  const { options, imagesRoot, masksRoot, out } = ctx;
  const image = await resolveInsideRoot(imagesRoot, t.image);
  const described = await ops.describe(image);
  const hasMask = existsSync(t.mask);
  const mask = hasMask ? await resolveInsideRoot(masksRoot, t.mask) : undefined;
  const box = mask === undefined ? null : checkMaskBox(image, mask, described.size, await ops.readMaskBox(mask, options.boxMode ?? 'largest'));
  const ranked = rankReferences(pool, described.descriptor, ops, options.topK ?? DEFAULT_TOP_K);
  const rel = relative(imagesRoot, image).split(sep).join('/').replace(/\.[^.]+$/, '');
  const pair = await pairFiles(t, ranked[0]?.item as PoolEntry<D>, described.size, ops, join(out, 'images', rel));
  const { width, height } = described.size;
  return {
    id: rel.replaceAll('/', '-'),
    class: t.cls,
    reference: toManifestPath(out, pair.reference),
    target: toManifestPath(out, pair.target),
    width: pair.size.width,
    height: pair.size.height,
    box: box === null ? null : toScaledBox(box, described.size, pair.size),
    // A resized target no longer matches its mask; the source keeps the way back.
    ...(mask === undefined || pair.resized ? {} : { mask: toManifestPath(out, mask) }),
    ...(pair.resized ? { source: { reference: toManifestPath(out, ranked[0]!.item.path), target: toManifestPath(out, image), crop: [0, 0, width, height] } } : {}),
    references_topk: toReferencesTopk(out, ranked),
  };
}

/**
 * Imports any folder of images with masks: an image with a mask is anomalous
 * (box = tight box of the mask), one without is normal; each gets the most
 * similar defect-free image of its class as reference. When the two differ in
 * size both are written at the smaller size under OUT/images, the box scaled.
 */
export async function importMasks<D>(options: MasksImportOptions, ops: DatasetImageOps<D>): Promise<ImportResult> {
  const imagesRoot = await requireDirectory(options.images, 'image folder');
  const masksRoot = await requireDirectory(options.masks ?? options.images, 'mask folder');
  const normalsRoot = await requireDirectory(options.normals, 'normal image folder');
  const { out, manifest } = prepareOutput(options);
  const bad = new BadItems(options.skipBad ?? false);
  const targets = await listTargets(options, imagesRoot, masksRoot);
  if (targets.length === 0) throw new DifferadError('DATASET_LAYOUT_INVALID', `${imagesRoot} holds no images`);
  if (!targets.some((t) => existsSync(t.mask))) {
    // Every image would silently become "normal": almost surely a wrong pattern or folder.
    const pattern = options.maskPattern ?? '{stem}.png';
    throw new DifferadError('DATASET_LAYOUT_INVALID', `no image under ${imagesRoot} has a mask matching "${pattern}" in ${masksRoot} (first looked for: ${targets[0]?.mask})`);
  }
  const normals = await normalsByClass(normalsRoot);
  const records: ManifestRecord[] = [];
  const classes = [...new Set(targets.map((t) => t.cls))].sort();
  for (const cls of classes) {
    const candidates = normals.byClass.get(cls) ?? normals.shared;
    const pool = await describePool(normalsRoot, candidates, ops, options, bad, `${cls}: references`);
    if (pool.length === 0) {
      const folder = join(normalsRoot, cls);
      bad.add(folder, new DifferadError('DATASET_LAYOUT_INVALID', `class ${cls} has no normal images: none readable in ${folder} nor directly in ${normalsRoot}`));
      continue;
    }
    const mine = targets.filter((t) => t.cls === cls);
    const made = await runItems(mine, options, bad, `${cls}: images`, (t) => t.image, (t) => toRecord(t, pool, ops, { options, imagesRoot, masksRoot, out }));
    for (const r of made) if (r !== undefined) records.push(r);
  }
  return finishImport(manifest, records, bad, { classes: classes.length, with_mask: records.filter((r) => r.box !== null).length });
}
