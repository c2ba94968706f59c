import { type Box, mapBounded } from '@differad/core';
import type { DecodeLimits } from '../decode/open-image.js';
import { type EncodeOptions, type RawImage, writeRawImage } from '../encode/write-image.js';
import { resizeRawImage } from '../transform/crop-resize.js';
import { blit, createCanvas, type DrawSource, loadRgb } from './canvas.js';
import { type DrawnBox, paintBoxes, type Rgb } from './draw-boxes.js';
import { fitText, overlayText, type TextLabel } from './text-overlay.js';

/** One tile of a contact sheet. */
export interface ContactTile {
  readonly image: DrawSource;
  readonly caption?: string;
  /** Boxes in pixels of this tile's image; scaled with it. */
  readonly boxes?: readonly DrawnBox[];
}

/** Layout of a contact sheet. */
export interface ContactSheetOptions {
  /** Tiles per row (default ⌈√n⌉). */
  readonly columns?: number;
  /** Tile size in pixels; each image is scaled to fit, aspect kept (default 256 × 256). */
  readonly tileWidth?: number;
  readonly tileHeight?: number;
  /** Pixels between tiles and around the sheet (default 6). */
  readonly gap?: number;
  /** Caption font size (default 12). */
  readonly fontSize?: number;
  /** Box outline width on the scaled tiles (default 2). */
  readonly lineWidth?: number;
  readonly background?: Rgb;
  /** Tiles decoded at once (default 4). */
  readonly concurrency?: number;
  readonly limits?: DecodeLimits;
}

function scaleBox(box: Box, sx: number, sy: number): Box {
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

async function toTile(tile: ContactTile, w: number, h: number, lineWidth: number, limits?: DecodeLimits) {
  const rgb = await loadRgb(tile.image, limits);
  const scale = Math.min(w / rgb.width, h / rgb.height);
  const size = { width: Math.max(1, Math.round(rgb.width * scale)), height: Math.max(1, Math.round(rgb.height * scale)) };
  const small = size.width === rgb.width && size.height === rgb.height ? rgb : await resizeRawImage(rgb, size, { kernel: 'cubic' });
  const sx = size.width / rgb.width;
  const sy = size.height / rgb.height;
  const boxes = (tile.boxes ?? []).map((b) => ({ ...b, box: scaleBox(b.box, sx, sy), label: '' }));
  paintBoxes(small, boxes, { lineWidth, fontSize: 10 });
  return small;
}

/**
 * Renders a grid of tiles with captions underneath (a report's overview of
 * pairs or predictions). Each image is scaled to fit its tile, centred, with
 * its boxes scaled along.
 */
export async function renderContactSheet(tiles: readonly ContactTile[], options: ContactSheetOptions = {}): Promise<RawImage> {
  const n = tiles.length;
  const columns = Math.max(1, Math.min(n, options.columns ?? Math.ceil(Math.sqrt(n))));
  const rows = Math.max(1, Math.ceil(n / columns));
  const tw = options.tileWidth ?? 256;
  const th = options.tileHeight ?? tw;
  const gap = options.gap ?? 6;
  const fontSize = options.fontSize ?? 12;
  const captionBand = tiles.some((t) => (t.caption ?? '') !== '') ? fontSize + 6 : 0;
  const cellH = th + captionBand;
  const canvas = createCanvas(gap + columns * (tw + gap), gap + rows * (cellH + gap), options.background ?? [24, 24, 24]);
  const images = await mapBounded(tiles, options.concurrency ?? 4, (t) => toTile(t, tw, th, options.lineWidth ?? 2, options.limits));
  const labels: TextLabel[] = [];
  images.forEach((img, i) => {
    const left = gap + (i % columns) * (tw + gap);
    const top = gap + Math.floor(i / columns) * (cellH + gap);
    blit(canvas, img, left + Math.floor((tw - img.width) / 2), top + Math.floor((th - img.height) / 2));
    const caption = tiles[i]?.caption ?? '';
    if (caption !== '') labels.push({ x: left + 2, y: top + th + 3, text: fitText(caption, fontSize, tw - 4), fontSize });
  });
  return overlayText(canvas, labels);
}

/** Renders a contact sheet and writes it (PNG or JPEG by extension). */
export async function writeContactSheet(
  tiles: readonly ContactTile[],
  output: string,
  options: ContactSheetOptions & EncodeOptions = {},
): Promise<void> {
  await writeRawImage(output, await renderContactSheet(tiles, options), options);
}
