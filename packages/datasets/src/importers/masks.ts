import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { lstatSync } from 'node:fs';
import { DifferadError, type ManifestRecord } from '@differad/core';
import type { DatasetImageOps, MaskBoxMode } from './dataset-image-ops.js';
import { IMAGE_EXTENSIONS, listImagesDeep, requireDirectory, resolveInsideRoot, stemOf, toManifestPath } from './dataset-paths.js';
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

/** A mask file is there, or a link named like one (a dangling or looping link fails later, naming it, rather than making the image normal). */
const hasMaskFile = (t: Target) => lstatSync(t.mask, { throwIfNoEntry: false }) !== undefined;

/** Throws unless `pattern` names a mask per image: it must hold `{stem}`. */
function checkMaskPattern(pattern: string): void {
  if (!pattern.includes('{stem}')) throw new DifferadError('DATASET_LAYOUT_INVALID', `--mask-pattern "${pattern}" must contain {stem}`);
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
  checkMaskPattern(pattern);
  const files = await listImagesDeep(imagesRoot);
  if (files.length === 0) {
    throw new DifferadError(
      'DATASET_LAYOUT_INVALID',
      `${imagesRoot} holds no images (${IMAGE_EXTENSIONS.join(', ')}), in it or in its sub-folders`,
    );
  }
  const all = files.map((image) => ({ cls: classOf(imagesRoot, image), image, mask: toMaskPath(imagesRoot, masksRoot, pattern, image) }));
  // Masks beside their images (`{stem}.png` next to a `.jpg`) are not targets themselves.
  const maskSet = new Set(all.map((t) => t.mask));
  const targets = all.filter((t) => !maskSet.has(t.image));
  if (targets.length === 0) {
    const why = `but each is the mask of another under --mask-pattern "${pattern}"`;
    throw new DifferadError(
      'DATASET_LAYOUT_INVALID',
      `${imagesRoot} holds ${files.length} image(s), ${why}: no target image is left (give masks their own --masks folder, or a pattern such as "{stem}_mask.png")`,
    );
  }
  return targets;
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

async function toRecord<D>(
  t: Target,
  pool: readonly PoolEntry<D>[],
  ops: DatasetImageOps<D>,
  ctx: { options: MasksImportOptions; imagesRoot: string; masksRoot: string; output: ImportOutput },
): Promise<ManifestRecord> {
  const { options, imagesRoot, masksRoot, output } = ctx;
  const { out } = output;
  const image = await resolveInsideRoot(imagesRoot, t.image);
  const described = await ops.describe(image);
  const mask = hasMaskFile(t) ? await resolveInsideRoot(masksRoot, t.mask) : undefined;
  // The box is the mask's own tight box: the target is never resized, so it holds in the target's pixels as is.
  const box =
    mask === undefined ? null : checkMaskBox(image, mask, described.size, await ops.readMaskBox(mask, options.boxMode ?? 'largest'));
  const ranked = rankReferences(pool, described.descriptor, ops, options.topK ?? DEFAULT_TOP_K);
  const rel = relative(imagesRoot, image)
    .split(sep)
    .join('/')
    .replace(/\.[^.]+$/, '');
  const { reference, reference_resized } = await toPairedReference(
    ranked[0]?.item as PoolEntry<D>,
    described.size,
    `images/${rel}-reference.png`,
    output,
    ops,
  );
  return {
    id: rel.replaceAll('/', '-'),
    class: t.cls,
    reference,
    target: toManifestPath(out, image),
    width: described.size.width,
    height: described.size.height,
    box,
    ...(mask === undefined ? {} : { mask: toManifestPath(out, mask) }),
    ...(reference_resized === undefined ? {} : { reference_resized }),
    references_topk: toReferencesTopk(out, ranked),
  };
}

/**
 * Imports any folder of images with masks: an image with a mask is anomalous
 * (box = tight box of the mask), one without is normal; each gets the most
 * similar defect-free image of its class as reference. Targets stay where
 * they are, at their own size; a reference of another size is cover-resized
 * to the target's size under OUT/images (`reference_resized` says so). An
 * error leaves OUT as it was.
 */
export async function importMasks<D>(options: MasksImportOptions, ops: DatasetImageOps<D>): Promise<ImportResult> {
  const imagesRoot = await requireDirectory(options.images, 'image folder');
  const masksRoot = await requireDirectory(options.masks ?? options.images, 'mask folder');
  const normalsRoot = await requireDirectory(options.normals, 'normal image folder');
  return runStagedImport(options, (output) => importTargets(output, { imagesRoot, masksRoot, normalsRoot }, options, ops));
}

async function importTargets<D>(
  output: ImportOutput,
  roots: { imagesRoot: string; masksRoot: string; normalsRoot: string },
  options: MasksImportOptions,
  ops: DatasetImageOps<D>,
): Promise<ImportResult> {
  const { imagesRoot, masksRoot, normalsRoot } = roots;
  const bad = new BadItems(options.skipBad ?? false);
  const targets = await listTargets(options, imagesRoot, masksRoot);
  const masked = targets.filter(hasMaskFile).length;
  if (masked === 0) {
    // Every image would silently become "normal": almost surely a wrong pattern or folder.
    const pattern = options.maskPattern ?? '{stem}.png';
    throw new DifferadError(
      'DATASET_LAYOUT_INVALID',
      `no image under ${imagesRoot} has a mask matching "${pattern}" in ${masksRoot} (first looked for: ${targets[0]?.mask})`,
    );
  }
  const normals = await normalsByClass(normalsRoot);
  const records: ManifestRecord[] = [];
  const classes = [...new Set(targets.map((t) => t.cls))].sort();
  for (const cls of classes) {
    const candidates = normals.byClass.get(cls) ?? normals.shared;
    const pool = await describePool(normalsRoot, candidates, ops, options, bad, `${cls}: references`);
    if (pool.length === 0) {
      const folder = join(normalsRoot, cls);
      bad.add(
        folder,
        new DifferadError(
          'DATASET_LAYOUT_INVALID',
          `class ${cls} has no normal images: none readable in ${folder} nor directly in ${normalsRoot}`,
        ),
      );
      continue;
    }
    const mine = targets.filter((t) => t.cls === cls);
    const made = await runItems(
      mine,
      options,
      bad,
      `${cls}: images`,
      (t) => t.image,
      (t) => toRecord(t, pool, ops, { options, imagesRoot, masksRoot, output }),
    );
    for (const r of made) if (r !== undefined) records.push(r);
  }
  return finishImport(
    output,
    records,
    bad,
    { classes: classes.length, with_mask: records.filter((r) => r.box !== null).length },
    {
      found: `${targets.length} image(s) in ${classes.length} class(es), ${masked} with a mask`,
      defective: masked,
    },
  );
}
