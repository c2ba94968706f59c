import { type Box, isEmptyBox } from '@differad/core';
import { decodeImage } from '../decode/decode-image.js';
import type { DecodeLimits } from '../decode/open-image.js';
import type { ImageSource } from '../decode/read-source.js';
import { type EncodeOptions, type RawImage, writeRawImage } from '../encode/write-image.js';
import { estimateTextWidth, overlayText, type TextLabel } from './text-overlay.js';

/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [r: number, g: number, b: number];

/** Box colours of reports: ground truth green, prediction red. */
export const BOX_COLORS: Readonly<Record<'gt' | 'pred', Rgb>> = Object.freeze({ gt: [0, 200, 0], pred: [230, 0, 0] });

/** A box to draw, in pixels of the image it is drawn on (x2/y2 exclusive; fractions are rounded). */
export interface DrawnBox {
  readonly box: Box;
  /** 'gt' (green) or 'pred' (red); default 'pred'. */
  readonly kind?: 'gt' | 'pred';
  /** Overrides the colour of `kind`. */
  readonly color?: Rgb;
  readonly label?: string;
}

/** Line and text sizes of drawings. */
export interface DrawOptions {
  /** Outline width in pixels (default scales with the image, at least 2). */
  readonly lineWidth?: number;
  /** Label font size in pixels (default scales with the image, 10–28). */
  readonly fontSize?: number;
}

/** Default outline width for an image of this size. */
export function defaultLineWidth(width: number, height: number): number {
  return Math.max(2, Math.round(Math.min(width, height) / 250));
}

/** Default label font size for an image of this size. */
export function defaultFontSize(width: number, height: number): number {
  return Math.min(28, Math.max(10, Math.round(Math.min(width, height) / 35)));
}

/** A copy of an 8-bit image as RGB: grey replicated, alpha composited over white. */
export function toRgbImage(image: RawImage): RawImage {
  const { data, width, height, channels } = image;
  if (channels === 3) return { data: data.slice(), width, height, channels };
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const i = p * channels;
    const a = channels === 4 ? (data[i + 3] as number) / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const v = data[channels === 1 ? i : i + c] as number;
      out[p * 3 + c] = Math.round(v * a + 255 * (1 - a));
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Fills the rectangle [x1, x2) × [y1, y2), clipped to the image, of an RGB image in place. */
export function fillRect(image: RawImage, x1: number, y1: number, x2: number, y2: number, color: Rgb): void {
  const xa = Math.max(0, Math.round(x1));
  const xb = Math.min(image.width, Math.round(x2));
  const ya = Math.max(0, Math.round(y1));
  const yb = Math.min(image.height, Math.round(y2));
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const i = (y * image.width + x) * 3;
      image.data[i] = color[0];
      image.data[i + 1] = color[1];
      image.data[i + 2] = color[2];
    }
  }
}

/**
 * Paints box outlines (inside the box, `lineWidth` thick) and label tabs on
 * an RGB image in place, offset by (dx, dy); returns the texts to overlay.
 * Pure pixel work, so boxes appear even where no text can be rendered.
 */
export function paintBoxes(image: RawImage, boxes: readonly DrawnBox[], options: Required<DrawOptions>, dx = 0, dy = 0): TextLabel[] {
  const { lineWidth: lw, fontSize } = options;
  const labels: TextLabel[] = [];
  for (const drawn of boxes) {
    if (isEmptyBox(drawn.box)) continue;
    const color = drawn.color ?? BOX_COLORS[drawn.kind ?? 'pred'];
    const x1 = Math.round(drawn.box[0]) + dx;
    const y1 = Math.round(drawn.box[1]) + dy;
    const x2 = Math.round(drawn.box[2]) + dx;
    const y2 = Math.round(drawn.box[3]) + dy;
    if (x2 <= x1 || y2 <= y1) continue;
    const t = Math.min(lw, Math.ceil((x2 - x1) / 2), Math.ceil((y2 - y1) / 2));
    fillRect(image, x1, y1, x2, y1 + t, color);
    fillRect(image, x1, y2 - t, x2, y2, color);
    fillRect(image, x1, y1, x1 + t, y2, color);
    fillRect(image, x2 - t, y1, x2, y2, color);
    if (drawn.label === undefined || drawn.label === '') continue;
    const tabHeight = fontSize + 4;
    const tabWidth = estimateTextWidth(drawn.label, fontSize) + 6;
    // Above the box when there is room, else just inside its top edge.
    const top = y1 - tabHeight >= 0 ? y1 - tabHeight : y1 + t;
    const left = Math.max(0, Math.min(x1, image.width - tabWidth));
    fillRect(image, left, top, left + tabWidth, top + tabHeight, color);
    labels.push({ x: left + 3, y: top + 2, text: drawn.label, fontSize });
  }
  return labels;
}

function resolveOptions(image: RawImage, options: DrawOptions): Required<DrawOptions> {
  return {
    lineWidth: options.lineWidth ?? defaultLineWidth(image.width, image.height),
    fontSize: options.fontSize ?? defaultFontSize(image.width, image.height),
  };
}

/** An RGB copy of `image` with the boxes (green ground truth, red predictions) and their labels drawn. */
export async function drawBoxes(image: RawImage, boxes: readonly DrawnBox[], options: DrawOptions = {}): Promise<RawImage> {
  const rgb = toRgbImage(image);
  const labels = paintBoxes(rgb, boxes, resolveOptions(rgb, options));
  return overlayText(rgb, labels);
}

/** Decodes an image, draws boxes on it and writes it (PNG/JPEG/WebP/TIFF by extension). */
export async function writeAnnotatedImage(
  source: ImageSource,
  boxes: readonly DrawnBox[],
  output: string,
  options: DrawOptions & EncodeOptions & { readonly limits?: DecodeLimits } = {},
): Promise<void> {
  const image = await decodeImage(source, { ...(options.limits ?? {}), channels: 3 });
  await writeRawImage(output, await drawBoxes(image, boxes, options), options);
}
