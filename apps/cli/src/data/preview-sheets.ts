import { join } from 'node:path';
import { type ManifestRecord, mapBounded } from '@differad/core';
import { resolveManifestPath } from '@differad/datasets';
import { type ContactTile, decodeImage, type RawImage, renderPairPreview, resizeRawImage, writeContactSheet } from '@differad/images';

/** Layout of `differad data preview`. */
export interface PreviewOptions {
  /** Pairs per sheet. */
  readonly perSheet: number;
  /** Side of the square each image of a pair is fitted into. */
  readonly size: number;
  readonly columns: number;
  readonly jobs: number;
}

const GAP = 4;

async function fitted(path: string, side: number): Promise<RawImage> {
  const image = await decodeImage(path, { channels: 3 });
  const scale = Math.min(1, side / Math.max(image.width, image.height));
  if (scale === 1) return image;
  return resizeRawImage(image, { width: Math.max(1, Math.round(image.width * scale)), height: Math.max(1, Math.round(image.height * scale)) });
}

function caption(r: ManifestRecord): string {
  return `${r.id} · ${r.class}${r.box === null && r.class !== 'normal' ? ' · normal' : ''}`;
}

/** One contact-sheet tile: reference | target, the ground-truth box drawn on the target. */
async function toTile(manifest: string, r: ManifestRecord, side: number): Promise<ContactTile> {
  const [ref, tgt] = await Promise.all([fitted(resolveManifestPath(manifest, r.reference), side), fitted(resolveManifestPath(manifest, r.target), side)]);
  const pair = await renderPairPreview(ref, tgt, { captions: ['', ''], gap: GAP });
  if (r.box === null) return { image: pair, caption: caption(r) };
  const sx = tgt.width / r.width;
  const sy = tgt.height / r.height;
  const left = ref.width + GAP;
  const box = [left + r.box[0] * sx, r.box[1] * sy, left + r.box[2] * sx, r.box[3] * sy] as const;
  return { image: pair, caption: caption(r), boxes: [{ box, kind: 'gt' }] };
}

/**
 * Writes contact sheets `sheet-001.png`, … of the records: each tile shows
 * reference and target side by side with the ground-truth box (green) on the
 * target and `id · class` underneath. Returns the files written.
 */
export async function writePreviewSheets(manifest: string, records: readonly ManifestRecord[], out: string, options: PreviewOptions): Promise<string[]> {
  const files: string[] = [];
  for (let start = 0, k = 1; start < records.length; start += options.perSheet, k++) {
    const chunk = records.slice(start, start + options.perSheet);
    const tiles = await mapBounded(chunk, options.jobs, (r) => toTile(manifest, r, options.size));
    const file = join(out, `sheet-${String(k).padStart(3, '0')}.png`);
    await writeContactSheet(tiles, file, { columns: Math.min(options.columns, tiles.length), tileWidth: 2 * options.size + GAP, tileHeight: options.size, fontSize: 11 });
    files.push(file);
  }
  return files;
}
