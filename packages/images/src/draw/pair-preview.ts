import type { DecodeLimits } from '../decode/open-image.js';
import { type EncodeOptions, type RawImage, writeRawImage } from '../encode/write-image.js';
import { blit, createCanvas, type DrawSource, loadRgb } from './canvas.js';
import { defaultFontSize, defaultLineWidth, type DrawnBox, type DrawOptions, paintBoxes, type Rgb } from './draw-boxes.js';
import { fitText, overlayText, type TextLabel } from './text-overlay.js';

/** Options of a pair preview. */
export interface PairPreviewOptions extends DrawOptions {
  /** Boxes in pixels of the target (ground truth and predictions). */
  readonly boxes?: readonly DrawnBox[];
  /** A line above both images (an id, a class, a score). */
  readonly title?: string;
  /** Captions above each image (default 'reference' and 'target'; empty strings hide them). */
  readonly captions?: readonly [reference: string, target: string];
  /** Pixels between the images (default 8). */
  readonly gap?: number;
  readonly background?: Rgb;
  readonly limits?: DecodeLimits;
}

/**
 * Renders reference | target side by side with the boxes drawn on the
 * target, captions above each, and an optional title: the picture a reviewer
 * checks a pair and a prediction with.
 */
export async function renderPairPreview(reference: DrawSource, target: DrawSource, options: PairPreviewOptions = {}): Promise<RawImage> {
  const [ref, tgt] = await Promise.all([loadRgb(reference, options.limits), loadRgb(target, options.limits)]);
  const gap = options.gap ?? 8;
  const fontSize = options.fontSize ?? defaultFontSize(tgt.width, tgt.height);
  const lineWidth = options.lineWidth ?? defaultLineWidth(tgt.width, tgt.height);
  const captions = options.captions ?? ['reference', 'target'];
  const band = fontSize + 8;
  const titleBand = options.title === undefined || options.title === '' ? 0 : band;
  const captionBand = captions.some((c) => c !== '') ? band : 0;
  const top = titleBand + captionBand;
  const width = ref.width + gap + tgt.width;
  const canvas = createCanvas(width, top + Math.max(ref.height, tgt.height), options.background ?? [32, 32, 32]);
  blit(canvas, ref, 0, top);
  blit(canvas, tgt, ref.width + gap, top);
  const labels: TextLabel[] = paintBoxes(canvas, options.boxes ?? [], { lineWidth, fontSize }, ref.width + gap, top);
  if (titleBand > 0) labels.push({ x: 4, y: 4, text: fitText(options.title ?? '', fontSize, width - 8), fontSize });
  if (captionBand > 0) {
    labels.push({ x: 4, y: titleBand + 4, text: fitText(captions[0], fontSize, ref.width - 8), fontSize });
    labels.push({ x: ref.width + gap + 4, y: titleBand + 4, text: fitText(captions[1], fontSize, tgt.width - 8), fontSize });
  }
  return overlayText(canvas, labels);
}

/** Renders a pair preview and writes it (PNG or JPEG by extension). */
export async function writePairPreview(
  reference: DrawSource,
  target: DrawSource,
  output: string,
  options: PairPreviewOptions & EncodeOptions = {},
): Promise<void> {
  await writeRawImage(output, await renderPairPreview(reference, target, options), options);
}
